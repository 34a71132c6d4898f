<?php
/**
 * voipbridge shim settings. Copy this file to config.php in the same folder and fill it in.
 * Keep config.php readable by the web server's user only (chmod 640): it holds the secret.
 */

return [
    // Where the bridge listens, as WHMCS reaches it (no trailing /v1).
    'bridge_url' => 'https://voipbridge.example.com:8080',
    // The bridge's BRIDGE_SECRET, exactly.
    'secret' => 'change-me-to-the-bridge-secret',
    // Seconds to wait for the bridge to answer a module call (WHMCS's own pages wait on it).
    'timeout' => 25,
    // Seconds to wait for the connection itself.
    'connect_timeout' => 5,
    // Seconds a cron job may run (autobill over many services takes a while).
    'cron_timeout' => 3600,
    // Where the last ConfigOptions, MetaData and button list are kept for when the bridge is
    // down ('' = the cache/ folder beside this file; it must be writable by the web server).
    'cache_dir' => '',
    // Addresses allowed to run the cron files (collect.php, realtime.php, ...) over HTTP
    // (?runfrom=cron).
    'cron_http_ips' => ['127.0.0.1', '::1'],
];
