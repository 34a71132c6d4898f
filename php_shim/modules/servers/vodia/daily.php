<?php
/**
 * voipbridge cron entry point: runs the bridge's daily job and prints its report.
 *
 *   php -q <WHMCS>/modules/servers/vodia/daily.php [--dry-run]
 *   curl 'https://<WHMCS>/modules/servers/vodia/daily.php?runfrom=cron'   (from cron_http_ips only)
 *
 * Exits 0 when the job dealt with everything, 1 when some services or clients failed (they are
 * retried next run), 2 when the job could not run. The daily.php of any one module is enough:
 * every module's file runs the same job for all VoIP clients.
 */

declare(strict_types=1);

// Run on its own, WHMCS has not loaded its configuration.php: read it for VOIPBRIDGE_LIB_DIR.
if (!defined('VOIPBRIDGE_LIB_DIR') && is_file(dirname(__DIR__, 3) . '/configuration.php')) {
    require_once dirname(__DIR__, 3) . '/configuration.php';
}
require_once (defined('VOIPBRIDGE_LIB_DIR') ? VOIPBRIDGE_LIB_DIR : dirname(__DIR__, 3) . '/voipbridge') . '/voipbridge.php';

exit(voipbridge_run_cron('daily', $argv ?? []));
