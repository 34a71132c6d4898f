<?php
/*
 * voipbridge-fusionpbx-api: the gateways of a domain (field domain), or of every domain when it
 * is omitted (global gateways, which have no domain, only then). Passwords and usernames are
 * never listed. Answers {"success": 1, "message": "N gateways", "gateways": [...]}, ordered by
 * domain and name.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

$context = vbapi_start();
$db = $context['db'];
$sql = 'SELECT g.gateway_uuid, g.gateway AS gateway_name, d.domain_name, CAST(g.enabled AS text) AS enabled, '
	. 'g.profile, g.proxy, CAST(g.register AS text) AS register, g.description '
	. 'FROM v_gateways g LEFT JOIN v_domains d ON d.domain_uuid = g.domain_uuid';
$parameters = array();
if (vbapi_field('domain') !== '') {
	$domain = vbapi_domain($db, vbapi_required('domain', VBAPI_DOMAIN_PATTERN, 'domain name'));
	$sql .= ' WHERE g.domain_uuid = :domain_uuid';
	$parameters['domain_uuid'] = $domain['domain_uuid'];
}
$gateways = array();
foreach (vbapi_query($db, $sql . ' ORDER BY d.domain_name NULLS FIRST, g.gateway', $parameters)->fetchAll(PDO::FETCH_ASSOC) as $row) {
	$row['enabled'] = vbapi_is_true($row['enabled']);
	$row['register'] = vbapi_is_true($row['register']);
	$gateways[] = $row;
}
vbapi_reply(array(
	'success' => 1,
	'message' => count($gateways) . (count($gateways) === 1 ? ' gateway' : ' gateways'),
	'gateways' => $gateways,
));
