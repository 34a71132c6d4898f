<?php
/*
 * voipbridge-fusionpbx-api: is a SIP device registered for an extension of a tenant?
 * Fields: extension, tenant_domain. Asks FreeSWITCH for the extension's sofia_contact on every
 * SIP profile (profile "*"); "error/user_not_registered" means no. Answers
 * {"success": 1, "registered": true|false, "message": ...}.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

$context = vbapi_start();
$extension = vbapi_required('extension', VBAPI_EXTENSION_PATTERN, 'extension number');
if (vbapi_field('tenant_domain') === '' && vbapi_field('domain') !== '') {
	$_POST['tenant_domain'] = $_POST['domain'];
}
$domain = vbapi_required('tenant_domain', VBAPI_DOMAIN_PATTERN, 'domain name');
try {
	$esl = vbapi_event_socket($context);
	$contact = trim($esl->api("sofia_contact */$extension@$domain"));
	$esl->close();
} catch (VbapiSwitchError $error) {
	vbapi_log('switch_failed', array('reason' => $error->getMessage()), LOG_ERR);
	vbapi_refuse('FreeSWITCH is not answering: ' . $error->getMessage());
}
$registered = $contact !== '' && strpos($contact, 'error/') !== 0 && strpos($contact, '-ERR') !== 0;
vbapi_reply(array(
	'success' => 1,
	'registered' => $registered,
	'message' => "$extension@$domain is " . ($registered ? 'registered' : 'not registered'),
));
