<?php
/**
 * voipbridge shim: the cron entry points, one file per scheduled job in each module folder
 * (collect.php, realtime.php, autosuspend.php, autobill.php, daily.php).
 *
 * Run from the command line (php -q .../modules/servers/fusionpbx/autobill.php [--dry-run]) or
 * over HTTP (.../autobill.php?runfrom=cron, only from the addresses in cron_http_ips). Each POSTs
 * /v1/cron/JOB, prints the job's summary, details and errors, and exits 0 when the job dealt with
 * everything, 1 when some services or clients failed (retried on the next run), 2 when the job
 * could not run (bridge down, not configured, refused). Over HTTP a failure answers status 500.
 */

declare(strict_types=1);

/** Run $job on the bridge and return the process exit status (see the file header). */
function voipbridge_run_cron(string $job, array $argv = []): int
{
    $cli = PHP_SAPI === 'cli';
    if (!$cli) {
        header('Content-Type: text/plain; charset=utf-8');
        $refusal = voipbridge_cron_refusal();
        if ($refusal !== '') {
            http_response_code(403);
            echo $refusal, "\n";
            return 2;
        }
    }
    $dryRun = in_array('--dry-run', $argv, true) || (!$cli && ($_GET['dry_run'] ?? '') === '1');
    $answer = voipbridge_request('/v1/cron/' . rawurlencode($job), ['dry_run' => $dryRun], (int) voipbridge_config()['cron_timeout']);
    [$lines, $status] = voipbridge_cron_report($job, $answer);
    $out = $cli && $status !== 0 ? STDERR : null;
    foreach ($lines as $line) {
        if ($out !== null) {
            fwrite($out, $line . "\n");
        } else {
            echo $line, "\n";
        }
    }
    if (!$cli && $status !== 0) {
        http_response_code(500);
    }
    return $status;
}

/** Return the lines to print for the bridge's answer and the exit status. */
function voipbridge_cron_report(string $job, array $answer): array
{
    $report = $answer['result'];
    if (!$answer['ok'] || !is_array($report)) {
        $error = $answer['ok'] ? 'the bridge answered no job report' : $answer['error'];
        return [["voipbridge {$job}: FAILED: {$error}"], 2];
    }
    $ok = ($report['ok'] ?? false) === true;
    $lines = ["voipbridge {$job}: " . (string) ($report['summary'] ?? '') . ($report['dry_run'] ?? false ? ' (dry run)' : '')];
    if (($report['skipped'] ?? '') !== '') {
        $lines[] = 'skipped: ' . (string) $report['skipped'];
    }
    foreach ((array) ($report['details'] ?? []) as $detail) {
        $lines[] = '  ' . (string) $detail;
    }
    foreach ((array) ($report['errors'] ?? []) as $error) {
        $lines[] = 'ERROR ' . (string) ($error['subject'] ?? '') . ': ' . (string) ($error['message'] ?? '');
    }
    return [$lines, $ok ? 0 : 1];
}

/** Return why an HTTP cron call is refused, or '' when its address may run jobs. */
function voipbridge_cron_refusal(): string
{
    $allowed = (array) voipbridge_config()['cron_http_ips'];
    $address = (string) ($_SERVER['REMOTE_ADDR'] ?? '');
    if (($_GET['runfrom'] ?? '') !== 'cron') {
        return 'Add ?runfrom=cron to run this job over HTTP.';
    }
    if (!in_array($address, $allowed, true)) {
        return "Address {$address} may not run voipbridge jobs; add it to cron_http_ips in the voipbridge config.";
    }
    return '';
}
