<?php
/*
 * voipbridge-fusionpbx-api: the bridge's FusionPBX-side scripts (see fusionpbx_api/README.md).
 *
 * Shared start of every endpoint: settings, error handling, the JSON answer, the caller's IP
 * checked against the whitelist, the rate limits, and the API user's credentials. Each endpoint
 * calls vbapi_start() first and answers with vbapi_reply() / vbapi_refuse().
 *
 * Targets PHP 7.4 and 8.x: no PHP 8-only syntax or functions.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

require_once __DIR__ . '/settings.php';
require_once __DIR__ . '/log.php';
require_once __DIR__ . '/whitelist.php';
require_once __DIR__ . '/rate_limit.php';
require_once __DIR__ . '/database.php';
require_once __DIR__ . '/auth.php';
require_once __DIR__ . '/event_socket.php';
require_once __DIR__ . '/switch.php';

define('VBAPI_GRANTED', 'API Access Granted: Whitelisted IP');
define('VBAPI_EXTENSION_PATTERN', '/^[A-Za-z0-9*#+._-]{1,32}$/');
define('VBAPI_DOMAIN_PATTERN', '/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/');
define('VBAPI_GATEWAY_PATTERN', '/^[A-Za-z0-9][A-Za-z0-9 ._@:+-]{0,127}$/');
define('VBAPI_NAME_PATTERN', '/^[^\x00-\x1f\x7f]{0,64}$/u');
define('VBAPI_TEXT_PATTERN', '/^[^\x00-\x1f\x7f]{0,255}$/u');
define('VBAPI_BOOLEAN_PATTERN', '/^(true|false)$/');
define('VBAPI_DENIED', 'API Access Denied: Only whitelisted IPs may access this endpoint.');

/**
 * Answer with a JSON body and stop.
 */
function vbapi_reply($body, $status = 200, $headers = array())
{
	if (!headers_sent()) {
		http_response_code($status);
		header('Content-Type: application/json; charset=utf-8');
		header('Cache-Control: no-store');
		header('X-Content-Type-Options: nosniff');
		foreach ($headers as $name => $value) {
			header($name . ': ' . $value);
		}
	}
	echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PARTIAL_OUTPUT_ON_ERROR);
	exit;
}

/**
 * Answer {"success": 0, "message": ...} (plus $extra) and stop.
 */
function vbapi_refuse($message, $status = 200, $extra = array(), $headers = array())
{
	vbapi_reply(array_merge(array('success' => 0, 'message' => $message), $extra), $status, $headers);
}

/**
 * The caller's address as the web server saw it (never a forwarded-for header, which anyone can
 * set); an IPv4 address written as IPv6 (::ffff:a.b.c.d) is given back as IPv4.
 */
function vbapi_client_ip()
{
	$ip = isset($_SERVER['REMOTE_ADDR']) ? (string) $_SERVER['REMOTE_ADDR'] : '';
	$packed = vbapi_ip_packed($ip);
	return $packed === null ? $ip : inet_ntop($packed);
}

/**
 * Turn PHP warnings into exceptions and every uncaught exception into a logged JSON 500, so a
 * caller never sees a PHP error page or a half-written answer.
 */
function vbapi_install_error_handlers()
{
	ini_set('display_errors', '0');
	set_error_handler(function ($severity, $message, $file, $line) {
		if (!(error_reporting() & $severity)) {
			return false;
		}
		throw new ErrorException($message, 0, $severity, $file, $line);
	});
	set_exception_handler(function ($error) {
		vbapi_log('error', array(
			'reason' => get_class($error) . ': ' . $error->getMessage(),
			'at' => basename($error->getFile()) . ':' . $error->getLine(),
		), LOG_ERR);
		vbapi_refuse('Internal error in ' . vbapi_script_name() . '; see the FusionPBX server\'s log.', 500);
	});
}

/**
 * Read a POST field: trimmed text, '' when absent. Arrays (field[]=...) are refused.
 */
function vbapi_field($name)
{
	if (!isset($_POST[$name])) {
		return '';
	}
	if (!is_string($_POST[$name])) {
		vbapi_refuse("Field '$name' must be a single value.");
	}
	return trim($_POST[$name]);
}

/**
 * Read a required POST field that must match $pattern; refuse with a message naming it.
 */
function vbapi_required($name, $pattern, $what)
{
	$value = vbapi_field($name);
	if ($value === '') {
		vbapi_refuse("Field '$name' is required ($what).");
	}
	if (!preg_match($pattern, $value)) {
		vbapi_refuse("Field '$name' is not a valid $what.");
	}
	return $value;
}

/**
 * The fields of $patterns (name => regex) that the request carries, validated, keyed by column
 * ($columns renames fields whose column differs, e.g. extension_password => password, since
 * username and password are the API user's own); a field sent empty is '' (it clears the value).
 */
function vbapi_optional_fields($patterns, $columns = array())
{
	$values = array();
	foreach ($patterns as $name => $pattern) {
		if (!array_key_exists($name, $_POST)) {
			continue;
		}
		$value = vbapi_field($name);
		if (!preg_match($pattern, $value)) {
			vbapi_refuse("Field '$name' has a value that is not allowed.");
		}
		$values[isset($columns[$name]) ? $columns[$name] : $name] = $value;
	}
	return $values;
}

/**
 * The action field, refused unless it is one of $actions.
 */
function vbapi_action($actions)
{
	$action = vbapi_field('action');
	if (!in_array($action, $actions, true)) {
		vbapi_refuse("Field 'action' must be one of: " . implode(', ', $actions) . '.');
	}
	return $action;
}

/**
 * Start an endpoint: check the method, the whitelist, the rate limits and (unless
 * $options['auth'] is false) the API user's credentials. Returns the request context:
 * settings, ip, and for authenticated endpoints config, db (PDO) and user.
 */
function vbapi_start($options = array())
{
	vbapi_install_error_handlers();
	$methods = isset($options['methods']) ? $options['methods'] : array('POST');
	$method = isset($_SERVER['REQUEST_METHOD']) ? $_SERVER['REQUEST_METHOD'] : '';
	if (!in_array($method, $methods, true)) {
		vbapi_refuse('Use ' . implode(' or ', $methods) . '.', 405, array(), array('Allow' => implode(', ', $methods)));
	}
	$settings = vbapi_settings();
	$ip = vbapi_client_ip();
	$check = vbapi_whitelist_check($ip, $settings['whitelist_file']);
	foreach ($check['malformed'] as $bad) {
		vbapi_log('whitelist_line_ignored', array('file' => $settings['whitelist_file'], 'line' => $bad), LOG_WARNING);
	}
	if (!$check['allowed']) {
		vbapi_log('refused', array('reason' => $check['reason']), LOG_WARNING);
		vbapi_refuse(VBAPI_DENIED);
	}
	$wait = vbapi_rate_limit_request($settings, $ip);
	if ($wait !== null) {
		vbapi_log('refused', array('reason' => $wait['reason']), LOG_WARNING);
		vbapi_refuse(
			'Too many requests: ' . $wait['reason'] . '; try again in ' . $wait['seconds'] . ' seconds.',
			429,
			array('retry_after' => $wait['seconds']),
			array('Retry-After' => (string) $wait['seconds'])
		);
	}
	$context = array('settings' => $settings, 'ip' => $ip);
	if (isset($options['auth']) && $options['auth'] === false) {
		return $context;
	}
	$context['config'] = vbapi_fusionpbx_config($settings);
	$context['db'] = vbapi_database($context['config']);
	$context['user'] = vbapi_authenticate($context['db'], $settings, $ip);
	return $context;
}
