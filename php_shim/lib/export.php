<?php
/**
 * voipbridge shim: the client area's CSV export, streamed from the bridge to the browser.
 *
 * WHMCS reaches <module>_exportCalls at clientarea.php?action=productdetails&id=N&modop=custom
 * &a=exportCalls&vb…; the shim POSTs the same body as ClientArea to client-area/export and passes
 * the bridge's answer through as it arrives (curl's write callback): its status, Content-Type,
 * Content-Disposition and body bytes, then exits so WHMCS adds no page around it. A JSON answer
 * is the bridge's error, returned as the string WHMCS shows instead.
 */

declare(strict_types=1);

// A JSON error is small; anything longer is not read into memory.
const VOIPBRIDGE_ERROR_MAX = 65536;

/** Stream the export to the browser and exit, or return the error string. */
function voipbridge_export_calls(string $module, array $params): string
{
    $result = voipbridge_stream_export($module, $params);
    if ($result === null) {
        voipbridge_finish_download();
    }
    return (string) $result;
}

/** Stream the export; return null once a download was sent, else the error string. */
function voipbridge_stream_export(string $module, array $params): ?string
{
    $action = 'client-area/export';
    $payload = voipbridge_payload($params, voipbridge_query());
    $body = voipbridge_encode($payload);
    if ($body === null) {
        return 'The export request could not be encoded as JSON: ' . json_last_error_msg();
    }
    $handle = voipbridge_curl('/v1/whmcs/' . rawurlencode($module) . '/' . $action, $body);
    if (is_string($handle)) {
        voipbridge_log($module, $action, $payload, $handle, $handle, voipbridge_secrets($params));
        return $handle;
    }
    $state = ['status' => 0, 'headers' => [], 'decided' => false, 'streaming' => false, 'buffer' => '', 'bytes' => 0];
    curl_setopt_array($handle, [
        CURLOPT_RETURNTRANSFER => false,
        CURLOPT_HEADERFUNCTION => static function ($curl, string $line) use (&$state): int {
            if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $match) === 1) {
                $state['status'] = (int) $match[1];
                $state['headers'] = [];
            } elseif (strpos($line, ':') !== false) {
                [$name, $value] = explode(':', $line, 2);
                $state['headers'][strtolower(trim($name))] = trim($value);
            }
            return strlen($line);
        },
        CURLOPT_WRITEFUNCTION => static function ($curl, string $chunk) use (&$state): int {
            voipbridge_decide_download($state);
            if ($state['streaming']) {
                echo $chunk;
                flush();
                $state['bytes'] += strlen($chunk);
            } elseif (strlen($state['buffer']) < VOIPBRIDGE_ERROR_MAX) {
                $state['buffer'] .= $chunk;
            }
            return strlen($chunk);
        },
    ]);
    curl_exec($handle);
    $errno = curl_errno($handle);
    $error = curl_error($handle);
    curl_close($handle);
    $secrets = voipbridge_secrets($params);
    if ($errno === 0) {
        voipbridge_decide_download($state);
    }
    if ($state['streaming']) {
        $sent = "HTTP {$state['status']}, {$state['bytes']} bytes" . ($errno !== 0 ? ", cut short: {$error}" : '');
        voipbridge_log($module, $action, $payload, $state['headers'], $sent, $secrets);
        return null;
    }
    if ($errno !== 0) {
        $message = voipbridge_transfer_error($errno, $error);
        voipbridge_log($module, $action, $payload, $message, $message, $secrets);
        return $message;
    }
    $answer = voipbridge_read_answer($state['status'], (string) ($state['headers']['content-type'] ?? ''), $state['buffer']);
    $message = $answer['ok'] ? 'The bridge answered no file to download.' : $answer['error'];
    voipbridge_log($module, $action, $payload, $answer, $message, $secrets);
    return $message;
}

/** On the first bytes (or the end) of the answer, start the download unless it is JSON. */
function voipbridge_decide_download(array &$state): void
{
    if ($state['decided'] || $state['status'] === 0) {
        return;
    }
    $state['decided'] = true;
    $type = (string) ($state['headers']['content-type'] ?? 'application/octet-stream');
    if (stripos($type, 'application/json') === 0) {
        return;
    }
    $state['streaming'] = true;
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    if (!headers_sent()) {
        http_response_code($state['status']);
        header('Content-Type: ' . $type);
        if (isset($state['headers']['content-disposition'])) {
            header('Content-Disposition: ' . $state['headers']['content-disposition']);
        }
        header('Cache-Control: no-store');
        header('X-Content-Type-Options: nosniff');
    }
}

/** End the request once a download was sent, so WHMCS renders no page after it. */
function voipbridge_finish_download(): void
{
    exit(0);
}
