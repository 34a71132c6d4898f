<?php
/*
 * voipbridge-fusionpbx-api: server status. Checks the database (counting domains) and asks
 * FreeSWITCH for its status over the event socket; success 0 when either does not answer.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

$context = vbapi_start();
$domains = (int) vbapi_query($context['db'], 'SELECT count(*) FROM v_domains')->fetchColumn();
try {
	$esl = vbapi_event_socket($context);
	$status = $esl->api('status');
	$esl->close();
} catch (VbapiSwitchError $error) {
	vbapi_log('switch_failed', array('reason' => $error->getMessage()), LOG_ERR);
	vbapi_refuse('FusionPBX database ok, but FreeSWITCH is not answering: ' . $error->getMessage());
}
$lines = preg_split('/\r?\n/', trim($status));
$uptime = $lines[0];
$version = '';
if (preg_match('/FreeSWITCH \(Version ([^ )]+)/', $status, $found)) {
	$version = $found[1];
}
vbapi_reply(array(
	'success' => 1,
	'message' => "FusionPBX online: database ok ($domains domains), FreeSWITCH $uptime",
	'domains' => $domains,
	'switch_status' => $uptime,
	'switch_version' => $version,
));
