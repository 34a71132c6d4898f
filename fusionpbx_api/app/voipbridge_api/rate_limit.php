<?php
/*
 * voipbridge-fusionpbx-api: per-IP rate limits, kept in small files under state_dir.
 *
 * Two limits (settings.php): requests_per_minute requests in a fixed one-minute window, and
 * auth_failure_limit failed logins within auth_failure_window seconds, after which that IP is
 * refused until the window has passed (a successful login does not reset it). Both answer 429
 * with Retry-After. Only whitelisted IPs get this far, so the files stay few.
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * Count a request from $ip; null when it may go on, else ['seconds' => wait, 'reason' => ...].
 */
function vbapi_rate_limit_request($settings, $ip)
{
	$now = time();
	return vbapi_rate_limit_update($settings, $ip, function (&$state) use ($settings, $now) {
		$window = (int) $settings['auth_failure_window'];
		$limit = (int) $settings['auth_failure_limit'];
		if ($limit > 0 && $state['fails'] >= $limit && $now < $state['fail_start'] + $window) {
			return array(
				'seconds' => $state['fail_start'] + $window - $now,
				'reason' => "$limit failed logins within $window seconds",
			);
		}
		if ($now >= $state['minute_start'] + 60) {
			$state['minute_start'] = $now;
			$state['requests'] = 0;
		}
		$state['requests']++;
		$per_minute = (int) $settings['requests_per_minute'];
		if ($per_minute > 0 && $state['requests'] > $per_minute) {
			return array(
				'seconds' => max(1, $state['minute_start'] + 60 - $now),
				'reason' => "more than $per_minute requests per minute",
			);
		}
		return null;
	});
}

/**
 * Count a failed login from $ip.
 */
function vbapi_rate_limit_failed_login($settings, $ip)
{
	$now = time();
	vbapi_rate_limit_update($settings, $ip, function (&$state) use ($settings, $now) {
		if ($now >= $state['fail_start'] + (int) $settings['auth_failure_window']) {
			$state['fail_start'] = $now;
			$state['fails'] = 0;
		}
		$state['fails']++;
		return null;
	});
}

/**
 * Run $change on $ip's counters under an exclusive lock and save them; return its result.
 */
function vbapi_rate_limit_update($settings, $ip, $change)
{
	$dir = $settings['state_dir'];
	if (!is_dir($dir) || !is_writable($dir)) {
		throw new RuntimeException("the state directory $dir is missing or not writable; run install.sh or set state_dir");
	}
	$packed = vbapi_ip_packed($ip);
	$file = $dir . '/rate-' . ($packed === null ? 'unknown' : bin2hex($packed));
	$handle = fopen($file, 'c+');
	if ($handle === false) {
		throw new RuntimeException("cannot open $file");
	}
	try {
		flock($handle, LOCK_EX);
		$state = json_decode((string) stream_get_contents($handle), true);
		if (!is_array($state)) {
			$state = array();
		}
		$state = array_merge(array('minute_start' => 0, 'requests' => 0, 'fail_start' => 0, 'fails' => 0), $state);
		$result = $change($state);
		ftruncate($handle, 0);
		rewind($handle);
		fwrite($handle, json_encode($state));
		fflush($handle);
		flock($handle, LOCK_UN);
	} finally {
		fclose($handle);
	}
	return $result;
}
