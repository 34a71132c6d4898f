<?php
/*
 * voipbridge-fusionpbx-api: the scripts' own settings.
 *
 * Defaults suit a stock FusionPBX 5.x host. To change them, write settings.ini beside this file
 * (see settings.ini.example), or point the VOIPBRIDGE_API_SETTINGS environment variable at
 * another ini file (the tests do; under php-fpm the pool must pass it with env[...]).
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * The settings with their defaults, read once per request.
 */
function vbapi_settings()
{
	static $settings = null;
	if ($settings !== null) {
		return $settings;
	}
	$settings = array(
		// FusionPBX's own configuration: database.0.* and switch.event_socket.*.
		'fusionpbx_config' => '/etc/fusionpbx/config.conf',
		// One IP or CIDR per line; empty means chkcon_whitelist.conf beside chkcon.php.
		'whitelist_file' => '',
		// Where the rate limit counters live (must be writable by the web server's user).
		'state_dir' => '/var/lib/voipbridge-fusionpbx-api',
		// Empty: refusals and changes go to syslog (facility auth); else appended to this file.
		'log_file' => '',
		// Requests one IP may make per minute (0: no limit).
		'requests_per_minute' => '120',
		// Failed logins one IP may make within auth_failure_window seconds before it is refused.
		'auth_failure_limit' => '10',
		'auth_failure_window' => '900',
		// FusionPBX groups whose members may use the API (comma separated).
		'api_groups' => 'superadmin',
		// FusionPBX's cache (Default Settings > cache > method and location).
		'cache_method' => 'file',
		'cache_location' => '/var/cache/fusionpbx',
		// Seconds to wait for FreeSWITCH's event socket.
		'event_socket_timeout' => '5',
		// Largest page export_cdr.php serves.
		'export_max_limit' => '5000',
		// Time zone for export_cdr.php dates given without an offset; empty: PHP's date.timezone.
		'timezone' => '',
	);
	$file = getenv('VOIPBRIDGE_API_SETTINGS');
	if ($file === false || $file === '') {
		$file = __DIR__ . '/settings.ini';
	}
	if (is_file($file)) {
		$values = parse_ini_file($file, false, INI_SCANNER_RAW);
		if ($values === false) {
			throw new RuntimeException("cannot parse the settings file $file");
		}
		foreach ($values as $key => $value) {
			if (!array_key_exists($key, $settings)) {
				throw new RuntimeException("unknown setting '$key' in $file");
			}
			$settings[$key] = trim((string) $value, " \t\"'");
		}
	}
	if ($settings['whitelist_file'] === '') {
		$settings['whitelist_file'] = dirname(__DIR__) . '/xml_cdr/chkcon_whitelist.conf';
	}
	foreach (array('requests_per_minute', 'auth_failure_limit', 'auth_failure_window', 'event_socket_timeout', 'export_max_limit') as $key) {
		if (!ctype_digit($settings[$key])) {
			throw new RuntimeException("setting '$key' must be a whole number, not '{$settings[$key]}'");
		}
		$settings[$key] = (int) $settings[$key];
	}
	if (!in_array($settings['cache_method'], array('file', 'memcache'), true)) {
		throw new RuntimeException("setting 'cache_method' must be 'file' or 'memcache'");
	}
	return $settings;
}

/**
 * The name of the script being run, for messages and the log.
 */
function vbapi_script_name()
{
	$script = isset($_SERVER['SCRIPT_NAME']) ? (string) $_SERVER['SCRIPT_NAME'] : '';
	return $script === '' ? 'voipbridge-api' : $script;
}
