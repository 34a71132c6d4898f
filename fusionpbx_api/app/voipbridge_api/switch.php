<?php
/*
 * voipbridge-fusionpbx-api: telling FreeSWITCH about a change, after it is committed.
 *
 * The commands are the ones FusionPBX itself sends for the same change:
 * - extension changed: clear FusionPBX's cache entry directory:EXT@CONTEXT (and the number
 *   alias's), then xml_flush_cache id EXT DOMAIN for FreeSWITCH's own user cache; created or
 *   deleted extensions also get reloadxml;
 * - gateway changed: clear the cache entry HOSTNAME:configuration:sofia.conf, then
 *   "sofia profile PROFILE killgw GATEWAY_UUID" to stop it and/or
 *   "sofia profile PROFILE rescan" to start it.
 * Clearing a cache entry follows the cache method: "file" removes the cached file under
 * cache_location and fires the CUSTOM fusion::file event; "memcache" fires fusion::memcache and
 * runs "memcache delete KEY".
 */

if (basename(__FILE__) === basename(isset($_SERVER['SCRIPT_FILENAME']) ? $_SERVER['SCRIPT_FILENAME'] : '')) {
	http_response_code(404);
	exit;
}

/**
 * Run $steps($esl) on a fresh event socket connection; return null when done, else why not.
 */
function vbapi_apply($context, $steps)
{
	try {
		$esl = vbapi_event_socket($context);
		try {
			$replies = $steps($esl);
		} finally {
			$esl->close();
		}
	} catch (VbapiSwitchError $error) {
		vbapi_log('switch_failed', array('reason' => $error->getMessage()), LOG_ERR);
		return $error->getMessage();
	}
	vbapi_log('switch_told', array('replies' => implode('; ', $replies)));
	return null;
}

/**
 * $value if it can go into an event socket command as one word, else throw.
 */
function vbapi_switch_word($value, $what)
{
	$value = (string) $value;
	if (!preg_match('/^[A-Za-z0-9@._*+#:-]+$/', $value)) {
		throw new VbapiSwitchError("the $what '$value' cannot be sent to FreeSWITCH");
	}
	return $value;
}

/**
 * Clear one FusionPBX cache entry; return what the switch answered.
 */
function vbapi_cache_clear($esl, $settings, $key)
{
	$key = vbapi_switch_word($key, 'cache key');
	if ($settings['cache_method'] === 'memcache') {
		$esl->sendevent('CUSTOM', array(
			'Event-Name' => 'CUSTOM',
			'Event-Subclass' => 'fusion::memcache',
			'API-Command' => 'memcache',
			'API-Command-Argument' => 'delete ' . $key,
		));
		return 'memcache delete ' . $key . ': ' . trim($esl->api('memcache delete ' . $key));
	}
	$name = str_replace(':', '.', $key);
	$esl->sendevent('CUSTOM', array(
		'Event-Name' => 'CUSTOM',
		'Event-Subclass' => 'fusion::file',
		'API-Command' => 'cache',
		'API-Command-Argument' => 'delete ' . $name,
	));
	$file = rtrim($settings['cache_location'], '/') . '/' . $name;
	if (is_file($file) && !@unlink($file)) {
		throw new VbapiSwitchError("cannot remove the cache file $file; check its permissions");
	}
	return 'cache delete ' . $name;
}

/**
 * Tell FreeSWITCH an extension changed: clear its directory cache entries; $reload adds reloadxml.
 */
function vbapi_apply_extension($esl, $settings, $names, $user_context, $domain_name, $reload)
{
	$replies = array();
	foreach (array_unique(array_filter($names, 'strlen')) as $name) {
		$replies[] = vbapi_cache_clear($esl, $settings, 'directory:' . $name . '@' . $user_context);
		$command = 'xml_flush_cache id ' . vbapi_switch_word($name, 'extension') . ' ' . vbapi_switch_word($domain_name, 'domain');
		$replies[] = $command . ': ' . trim($esl->api($command));
	}
	if ($reload) {
		$replies[] = 'reloadxml: ' . trim($esl->api('reloadxml'));
	}
	return $replies;
}

/**
 * Tell FreeSWITCH a gateway changed: clear sofia.conf's cache entry, then stop ($kill) and/or
 * start ($rescan) it.
 */
function vbapi_apply_gateway($esl, $settings, $gateway, $kill, $rescan)
{
	$profile = vbapi_switch_word($gateway['profile'] === null || $gateway['profile'] === '' ? 'external' : $gateway['profile'], 'SIP profile');
	$uuid = vbapi_switch_word(strtolower($gateway['gateway_uuid']), 'gateway uuid');
	$replies = array(vbapi_cache_clear($esl, $settings, gethostname() . ':configuration:sofia.conf'));
	if ($kill) {
		$command = "sofia profile $profile killgw $uuid";
		$replies[] = $command . ': ' . trim($esl->api($command));
	}
	if ($rescan) {
		$command = "sofia profile $profile rescan";
		$replies[] = $command . ': ' . trim($esl->api($command));
	}
	return $replies;
}

/**
 * Answer a committed change: success, or success 0 saying FreeSWITCH was not told ($problem).
 */
function vbapi_answer_change($message, $changed, $problem, $extra = array())
{
	if ($problem !== null) {
		vbapi_refuse(
			"$message in FusionPBX's database, but FreeSWITCH was not told ($problem). "
			. 'Send the same request again to retry; FreeSWITCH otherwise picks it up when its cache entry expires.',
			200,
			array_merge(array('changed' => $changed ? 1 : 0), $extra)
		);
	}
	vbapi_reply(array_merge(array('success' => 1, 'changed' => $changed ? 1 : 0, 'message' => $message), $extra));
}
