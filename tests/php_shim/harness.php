<?php
/**
 * Stands in for WHMCS around the voipbridge server modules, for tests/php_shim.
 *
 * It defines what the modules use of WHMCS (the WHMCS constant, $CONFIG, logModuleCall), reports
 * every PHP warning or notice (error_reporting(E_ALL)) into warnings.log beside it, loads the
 * three modules from the WHMCS folder the installer filled, and calls one module function.
 *
 * From the command line it reads {"function", "args", "get", "session", "server"} on stdin and
 * prints {"return", "type", "log"} as JSON. Under PHP's built-in server (the export download) it
 * reads the same request from request.json and prints what the function returned, if it returns.
 */

declare(strict_types=1);

error_reporting(E_ALL);
ini_set('display_errors', '0');
$here = __DIR__;
set_error_handler(static function (int $level, string $message, string $file, int $line) use ($here): bool {
    file_put_contents($here . '/warnings.log', "{$message} at {$file}:{$line}\n", FILE_APPEND);
    return true;
});

$cli = PHP_SAPI === 'cli';
$request = json_decode($cli ? (string) stream_get_contents(STDIN) : (string) file_get_contents($here . '/request.json'), true);
$whmcs = (string) getenv('VOIPBRIDGE_TEST_WHMCS');

define('WHMCS', true);
$CONFIG = ['SystemURL' => 'https://billing.example.net/', 'Version' => '8.13.1'];
if ($cli) {
    $_GET = $request['get'] ?? [];
}
if (isset($request['session'])) {
    $_SESSION = $request['session'];
}
foreach ($request['server'] ?? [] as $name => $value) {
    $_SERVER[$name] = $value;
}

$moduleLog = [];

/** WHMCS's logModuleCall: keeps the entry with every $replaceVars value masked, as WHMCS does. */
function logModuleCall($module, $action, $requestString, $responseData, $processedData = '', $replaceVars = []): void
{
    global $moduleLog;
    $entry = [];
    foreach (['request' => $requestString, 'response' => $responseData, 'processed' => $processedData] as $name => $value) {
        $text = is_string($value) ? $value : print_r($value, true);
        foreach ($replaceVars as $secret) {
            $text = str_replace((string) $secret, '***', $text);
        }
        $entry[$name] = $text;
    }
    $moduleLog[] = ['module' => $module, 'action' => $action] + $entry;
}

foreach (['fusionpbx', 'vodia', 'lesnet'] as $module) {
    require_once "{$whmcs}/modules/servers/{$module}/{$module}.php";
}

$returned = call_user_func_array($request['function'], $request['args'] ?? []);
if ($cli) {
    echo json_encode(['return' => $returned, 'type' => gettype($returned), 'log' => $moduleLog], JSON_PARTIAL_OUTPUT_ON_ERROR);
} else {
    header('Content-Type: application/json');
    echo json_encode(['return' => $returned, 'type' => gettype($returned)]);
}
