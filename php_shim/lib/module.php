<?php
/**
 * voipbridge shim: what every server module function does — forward WHMCS's $params to the bridge,
 * log the call, and map the answer to the type WHMCS expects from that function.
 *
 * No business logic lives here: the bridge decides, the shim forwards and maps. Every function
 * keeps its WHMCS return type whatever happens (empty $params, bridge down, garbage answer).
 */

declare(strict_types=1);

// The catalog puts "License Key" first for every module (configoption1); it is masked in logs.
const VOIPBRIDGE_LICENSE_OPTION = 'configoption1';
const VOIPBRIDGE_SECRET_PARAMS = ['password', 'serverpassword', 'serveraccesshash', VOIPBRIDGE_LICENSE_OPTION];
// Page parameters a client-area call forwards: vb… names, short text values (the bridge checks too).
const VOIPBRIDGE_QUERY_NAME = '/^vb[a-z_]{1,30}$/';
const VOIPBRIDGE_QUERY_VALUE_MAX = 200;

/** Return what the bridge is told about this WHMCS: version, System URL, server IP, client. */
function voipbridge_whmcs_info(array $params): array
{
    $setting = static function (string $name): string {
        if (class_exists('WHMCS\Config\Setting')) {
            return (string) \WHMCS\Config\Setting::getValue($name);
        }
        $config = $GLOBALS['CONFIG'] ?? [];
        return is_array($config) && isset($config[$name]) ? (string) $config[$name] : '';
    };
    $client = isset($_SESSION['uid']) ? (int) $_SESSION['uid'] : (int) ($params['userid'] ?? 0);
    return [
        'version' => $setting('Version'),
        'system_url' => $setting('SystemURL'),
        'server_ip' => (string) ($_SERVER['SERVER_ADDR'] ?? ''),
        'client_id' => $client,
    ];
}

/** Return the JSON body of a module call: $params minus the model object, WHMCS info, query. */
function voipbridge_payload(array $params, array $query = []): array
{
    unset($params['model']);
    $payload = ['params' => $params, 'whmcs' => voipbridge_whmcs_info($params)];
    if ($query !== []) {
        $payload['query'] = $query;
    }
    return $payload;
}

/** Return the values logModuleCall must mask: the shared secret and the call's passwords. */
function voipbridge_secrets(array $params): array
{
    $values = [(string) voipbridge_config()['secret']];
    foreach (VOIPBRIDGE_SECRET_PARAMS as $name) {
        if (isset($params[$name]) && is_scalar($params[$name])) {
            $values[] = (string) $params[$name];
        }
    }
    // A 1-3 character value would mask every chance occurrence of it in the log.
    return array_values(array_unique(array_filter($values, static fn (string $v): bool => strlen($v) >= 4)));
}

/** Write one entry to WHMCS's module log (System Logs > Module Log), secrets masked. */
function voipbridge_log(string $module, string $action, mixed $request, mixed $response, mixed $processed, array $secrets): void
{
    if (function_exists('logModuleCall')) {
        logModuleCall($module, $action, $request, $response, $processed, $secrets);
    }
}

/** Send $action for $module to the bridge, log it, and return the normalised answer. */
function voipbridge_call(string $module, string $action, array $params, array $query = []): array
{
    $payload = voipbridge_payload($params, $query);
    $answer = voipbridge_request('/v1/whmcs/' . rawurlencode($module) . '/' . $action, $payload);
    $shown = $answer['ok'] ? $answer['result'] : $answer['error'];
    voipbridge_log($module, $action, $payload, $answer, $shown, voipbridge_secrets($params));
    return $answer;
}

/** Create/Suspend/Unsuspend/Terminate/ChangePackage: 'success' or the bridge's message. */
function voipbridge_action(string $module, string $action, array $params): string
{
    $answer = voipbridge_call($module, $action, $params);
    return $answer['ok'] ? 'success' : $answer['error'];
}

/**
 * An admin button: 'success' when the bridge says it succeeded (WHMCS shows anything else as a
 * "Module Command Error"; the bridge's line is in the module log and on the services tab),
 * otherwise the bridge's line (an Invalid License, a failed collection) or the error.
 */
function voipbridge_button(string $module, string $name, array $params): string
{
    $answer = voipbridge_call($module, 'button/' . $name, $params);
    if (!$answer['ok']) {
        return $answer['error'];
    }
    $result = $answer['result'];
    if (!is_array($result) || !is_string($result['message'] ?? null)) {
        return 'The bridge answered no button result.';
    }
    return ($result['success'] ?? false) === true ? 'success' : $result['message'];
}

/** TestConnection: ['success' => bool, 'error' => string] in the PBX's own words. */
function voipbridge_test_connection(string $module, array $params): array
{
    $answer = voipbridge_call($module, 'test-connection', $params);
    $result = $answer['result'];
    if (!$answer['ok'] || !is_array($result)) {
        return ['success' => false, 'error' => $answer['ok'] ? 'The bridge answered no test result.' : $answer['error']];
    }
    return ['success' => ($result['success'] ?? false) === true, 'error' => (string) ($result['error'] ?? '')];
}

/**
 * MetaData, ConfigOptions, AdminCustomButtonArray: the bridge's array, kept in the cache so the
 * WHMCS page still opens when the bridge is down; $fallback when it never answered.
 */
function voipbridge_cached_array(string $module, string $action, array $fallback = []): array
{
    $answer = voipbridge_call($module, $action, []);
    $file = rtrim((string) voipbridge_config()['cache_dir'], '/') . '/' . $module . '-' . $action . '.json';
    if ($answer['ok'] && is_array($answer['result'])) {
        voipbridge_write_cache($file, $answer['result']);
        return $answer['result'];
    }
    $cached = is_file($file) ? json_decode((string) file_get_contents($file), true) : null;
    return is_array($cached) ? $cached : $fallback;
}

/** Keep $value as JSON in $file (written whole, then renamed); a cache that cannot be written is skipped. */
function voipbridge_write_cache(string $file, array $value): void
{
    $dir = dirname($file);
    if (!is_dir($dir) && (!is_writable(dirname($dir)) || !mkdir($dir, 0700, true))) {
        return;
    }
    if (!is_writable($dir)) {
        return;
    }
    $temporary = $file . '.' . bin2hex(random_bytes(4));
    if (file_put_contents($temporary, (string) voipbridge_encode($value)) !== false) {
        rename($temporary, $file);
    }
}

/** AdminServicesTabFields: label => HTML; the bridge's plain text is escaped here. */
function voipbridge_services_tab(string $module, array $params): array
{
    $answer = voipbridge_call($module, 'services-tab', $params);
    if (!$answer['ok'] || !is_array($answer['result'])) {
        $error = $answer['ok'] ? 'The bridge answered no service facts.' : $answer['error'];
        return ['voipbridge' => voipbridge_escape($error)];
    }
    $fields = [];
    foreach ($answer['result'] as $label => $text) {
        $fields[(string) $label] = voipbridge_escape(is_scalar($text) ? (string) $text : '');
    }
    return $fields;
}

/** Return the client-area page's vb… GET parameters that may be forwarded. */
function voipbridge_query(): array
{
    $query = [];
    foreach ($_GET as $name => $value) {
        if (is_string($name) && preg_match(VOIPBRIDGE_QUERY_NAME, $name) === 1
            && is_string($value) && strlen($value) <= VOIPBRIDGE_QUERY_VALUE_MAX) {
            $query[$name] = $value;
        }
    }
    return $query;
}

/** ClientArea: the module template printing the bridge's HTML, or the error escaped. */
function voipbridge_client_area(string $module, array $params): array
{
    $answer = voipbridge_call($module, 'client-area', $params, voipbridge_query());
    $html = is_array($answer['result']) ? ($answer['result']['html'] ?? null) : null;
    if ($answer['ok'] && is_string($html)) {
        return ['templatefile' => 'clientarea', 'vars' => ['voipbridge_html' => $html, 'voipbridge_error' => '']];
    }
    $error = $answer['ok'] ? 'The bridge answered no page.' : $answer['error'];
    return [
        'templatefile' => 'clientarea',
        'vars' => [
            'voipbridge_html' => '<div class="alert alert-danger voipbridge-error">' . voipbridge_escape($error) . '</div>',
            'voipbridge_error' => $error,
        ],
    ];
}

/** Return $text escaped for HTML. */
function voipbridge_escape(string $text): string
{
    return htmlspecialchars($text, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
}
