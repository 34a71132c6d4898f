<?php
/*
 * voipbridge-fusionpbx-api: one log line per refusal, change and error.
 *
 * Lines look like
 *   2026-03-08T10:00:00Z voipbridge-api refused script=/app/status/index.php ip=203.0.113.5 reason="..."
 * so fail2ban can match them (fusionpbx_api/README.md has a filter). Passwords are never logged.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * Write one line: the event, the script, the caller's IP and $fields as key="value".
 */
function vbapi_log($event, $fields = array(), $priority = LOG_INFO)
{
	$ip = isset($_SERVER['REMOTE_ADDR']) ? (string) $_SERVER['REMOTE_ADDR'] : '-';
	$line = 'voipbridge-api ' . $event . ' script=' . vbapi_script_name() . ' ip=' . $ip;
	foreach ($fields as $key => $value) {
		$text = preg_replace('/[\x00-\x1f\x7f]+/', ' ', (string) $value);
		if (strlen($text) > 300) {
			$text = substr($text, 0, 300) . '...';
		}
		$line .= ' ' . $key . '="' . addcslashes($text, '"\\') . '"';
	}
	$settings = null;
	try {
		$settings = vbapi_settings();
	} catch (Exception $error) {
		// A broken settings file must not hide what was being logged.
	}
	if ($settings !== null && $settings['log_file'] !== '') {
		$written = @file_put_contents($settings['log_file'], gmdate('Y-m-d\TH:i:s\Z') . ' ' . $line . "\n", FILE_APPEND | LOCK_EX);
		if ($written !== false) {
			return;
		}
	}
	openlog('voipbridge-api', LOG_PID, LOG_AUTH);
	syslog($priority, $line);
	closelog();
}
