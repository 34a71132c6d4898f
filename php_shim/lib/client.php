<?php
/**
 * voipbridge shim: configuration, request signing and the HTTP call to the bridge.
 *
 * Every call is POST {bridge_url}/v1/... with a JSON body, signed as DESIGN.md §3 says:
 * X-Bridge-Signature = hex HMAC-SHA256(secret, "{ts}\n{nonce}\nPOST\n{path}\n{sha256hex(body)}").
 * The answer is normalised to ['ok' => bool, 'result' => mixed, 'error' => string,
 * 'code' => string, 'status' => int]: a bridge that is down, slow or answers something that is
 * not its JSON becomes ok=false with a sentence the WHMCS admin can act on, never a PHP error.
 */

declare(strict_types=1);

const VOIPBRIDGE_DEFAULTS = [
    'bridge_url' => '',
    'secret' => '',
    'timeout' => 25,
    'connect_timeout' => 5,
    'cron_timeout' => 3600,
    'cache_dir' => '',
    'cron_http_ips' => ['127.0.0.1', '::1'],
];

/**
 * Return the shim's settings: config.php beside this file (or the file VOIPBRIDGE_CONFIG
 * names) over the defaults, with 'problem' set when it is missing or incomplete.
 */
function voipbridge_config(bool $reload = false): array
{
    static $config = null;
    if ($config !== null && !$reload) {
        return $config;
    }
    $path = getenv('VOIPBRIDGE_CONFIG') ?: __DIR__ . '/config.php';
    $loaded = is_file($path) ? include $path : null;
    $config = array_merge(VOIPBRIDGE_DEFAULTS, is_array($loaded) ? $loaded : []);
    if ($config['cache_dir'] === '') {
        $config['cache_dir'] = __DIR__ . '/cache';
    }
    $config['problem'] = '';
    if (!is_array($loaded)) {
        $config['problem'] = 'voipbridge is not configured: copy config.example.php to '
            . $path . ' and set bridge_url and secret.';
    } elseif (trim((string) $config['bridge_url']) === '' || (string) $config['secret'] === '') {
        $config['problem'] = 'voipbridge is not configured: set bridge_url and secret in ' . $path . '.';
    }
    return $config;
}

/** Return the hex signature of one request (DESIGN.md §3). */
function voipbridge_sign(string $secret, int $timestamp, string $nonce, string $method, string $path, string $body): string
{
    $message = $timestamp . "\n" . $nonce . "\n" . strtoupper($method) . "\n" . $path . "\n"
        . hash('sha256', $body);
    return hash_hmac('sha256', $message, $secret);
}

/** Return the JSON body for $payload, or null when PHP cannot encode it. */
function voipbridge_encode(array $payload): ?string
{
    $json = json_encode(
        $payload,
        JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE
        | JSON_PARTIAL_OUTPUT_ON_ERROR
    );
    return is_string($json) ? $json : null;
}

/**
 * Return a configured curl handle for POST {bridge_url}{$route} with the signed $body, or an
 * error string. $timeout overrides the configured total timeout (the cron jobs take longer).
 */
function voipbridge_curl(string $route, string $body, ?int $timeout = null): \CurlHandle|string
{
    $config = voipbridge_config();
    if ($config['problem'] !== '') {
        return $config['problem'];
    }
    if (!function_exists('curl_init')) {
        return 'voipbridge needs PHP\'s curl extension (php-curl); install it and reload PHP.';
    }
    $base = rtrim(trim((string) $config['bridge_url']), '/');
    $path = rtrim((string) parse_url($base, PHP_URL_PATH), '/') . $route;
    $timestamp = time();
    $nonce = bin2hex(random_bytes(16));
    $signature = voipbridge_sign((string) $config['secret'], $timestamp, $nonce, 'POST', $path, $body);
    $handle = curl_init($base . $route);
    curl_setopt_array($handle, [
        CURLOPT_POST => true,
        CURLOPT_POSTFIELDS => $body,
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => max(1, (int) $config['connect_timeout']),
        CURLOPT_TIMEOUT => max(1, $timeout ?? (int) $config['timeout']),
        CURLOPT_FOLLOWLOCATION => false,
        CURLOPT_HTTPHEADER => [
            'Content-Type: application/json',
            'Accept: application/json',
            'X-Bridge-Timestamp: ' . $timestamp,
            'X-Bridge-Nonce: ' . $nonce,
            'X-Bridge-Signature: ' . $signature,
            // No "Expect: 100-continue" round trip for bodies over 1 KiB.
            'Expect:',
        ],
    ]);
    return $handle;
}

/** Return why a curl transfer failed, in words for the WHMCS admin. */
function voipbridge_transfer_error(int $errno, string $error, ?int $timeout = null): string
{
    $config = voipbridge_config();
    $url = rtrim(trim((string) $config['bridge_url']), '/');
    if ($errno === CURLE_OPERATION_TIMEDOUT) {
        $seconds = $timeout ?? (int) $config['timeout'];
        return "The voipbridge service at {$url} did not answer within {$seconds} seconds. "
            . 'It may still finish the action: check the Module Log before retrying.';
    }
    return "The voipbridge service at {$url} cannot be reached ({$error}). "
        . 'Check that it is running and that bridge_url is right.';
}

/**
 * POST $payload to the bridge's $route and return the normalised answer (see the file header).
 */
function voipbridge_request(string $route, array $payload, ?int $timeout = null): array
{
    $body = voipbridge_encode($payload);
    if ($body === null) {
        return voipbridge_failure('The module call could not be encoded as JSON: ' . json_last_error_msg());
    }
    $handle = voipbridge_curl($route, $body, $timeout);
    if (is_string($handle)) {
        return voipbridge_failure($handle, 'not_configured');
    }
    $raw = curl_exec($handle);
    $errno = curl_errno($handle);
    $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
    $type = (string) curl_getinfo($handle, CURLINFO_CONTENT_TYPE);
    $error = curl_error($handle);
    curl_close($handle);
    if ($errno !== 0 || !is_string($raw)) {
        return voipbridge_failure(voipbridge_transfer_error($errno, $error, $timeout), 'unreachable');
    }
    return voipbridge_read_answer($status, $type, $raw);
}

/** Return the normalised answer for an HTTP reply from the bridge. */
function voipbridge_read_answer(int $status, string $type, string $raw): array
{
    $answer = json_decode($raw, true);
    if (!is_array($answer) || !array_key_exists('ok', $answer)) {
        $url = rtrim(trim((string) voipbridge_config()['bridge_url']), '/');
        $excerpt = trim(preg_replace('/\s+/', ' ', strip_tags(substr($raw, 0, 400))) ?? '');
        return voipbridge_failure(
            "The voipbridge service at {$url} answered HTTP {$status} ({$type}) with something "
            . 'that is not its JSON' . ($excerpt !== '' ? ': "' . substr($excerpt, 0, 120) . '"' : '')
            . '. Check that bridge_url points at the bridge itself, not a web page or proxy.',
            'not_bridge_json',
            $status
        );
    }
    if ($answer['ok'] === true) {
        return ['ok' => true, 'result' => $answer['result'] ?? null, 'error' => '', 'code' => '', 'status' => $status];
    }
    $error = is_array($answer['error'] ?? null) ? $answer['error'] : [];
    $message = is_string($error['message'] ?? null) ? $error['message'] : "The bridge refused the call (HTTP {$status}).";
    return voipbridge_failure($message, is_string($error['code'] ?? null) ? $error['code'] : 'error', $status);
}

/** Return a normalised failed answer. */
function voipbridge_failure(string $message, string $code = 'error', int $status = 0): array
{
    return ['ok' => false, 'result' => null, 'error' => $message, 'code' => $code, 'status' => $status];
}
