<?php
/*
 * voipbridge-fusionpbx-api: call detail records (v_xml_cdr) as JSON, one page at a time.
 *
 * Fields: date_start, date_end (ISO 8601; the half-open window [date_start, date_end) on
 * start_stamp; a time without an offset is in the timezone setting; a plain date is that whole
 * day, so date_end=2024-01-31 includes the 31st), format (JSON, the default and only one),
 * domain (the tenant's domain_name; omitted: every domain), limit (rows per page, default
 * 1000, at most export_max_limit) and, for the next page, after_start and after_uuid: the
 * start_stamp and xml_cdr_uuid of the previous page's last row (keyset paging, so rows arriving
 * meanwhile neither repeat nor hide a row). Answers a JSON list of rows ordered by start_stamp,
 * xml_cdr_uuid, with v_xml_cdr's column names (stamps in UTC); a page shorter than limit is the
 * last. The bulky columns (xml, json, call_flow) and PINs and recordings are left out.
 *
 * window=recorded puts the window on when FusionPBX recorded each row instead: insert_date, or
 * start_stamp for rows an older importer left without one. A call is recorded when it ends and
 * the importer may fall behind, so a start-time window misses long calls and late imports; the
 * bridge collects this way. Rows then carry that instant as "recorded", are ordered by it and
 * xml_cdr_uuid, and the next page's cursor is after_recorded and after_uuid. FusionPBX creates
 * no index on insert_date; on a large v_xml_cdr add the one the README names.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

define('VBAPI_CDR_COLUMNS', array(
	'xml_cdr_uuid', 'domain_uuid', 'domain_name', 'extension_uuid', 'sip_call_id', 'accountcode',
	'direction', 'context', 'caller_id_name', 'caller_id_number', 'caller_destination',
	'source_number', 'destination_number', 'start_epoch', 'start_stamp', 'answer_stamp',
	'answer_epoch', 'end_epoch', 'end_stamp', 'duration', 'mduration', 'billsec', 'billmsec',
	'hold_accum_seconds', 'bridge_uuid', 'leg', 'originating_leg_uuid', 'pdd_ms',
	'rtp_audio_in_mos', 'last_app', 'voicemail_message', 'missed_call', 'waitsec', 'status',
	'call_disposition', 'hangup_cause', 'hangup_cause_q850', 'sip_hangup_disposition',
));
define('VBAPI_UUID_PATTERN', '/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/');

$context = vbapi_start();
$db = $context['db'];
$settings = $context['settings'];
$format = vbapi_field('format');
if ($format !== '' && strtoupper($format) !== 'JSON') {
	vbapi_refuse('Only format=JSON is supported');
}
$zone = vbapi_export_zone($settings);
$parameters = array(
	'date_start' => vbapi_instant('date_start', $zone, false),
	'date_end' => vbapi_instant('date_end', $zone, true),
);
$limit = vbapi_field('limit');
if ($limit === '') {
	$limit = '1000';
}
if (!ctype_digit($limit) || (int) $limit < 1 || (int) $limit > $settings['export_max_limit']) {
	vbapi_refuse("Field 'limit' must be a whole number from 1 to {$settings['export_max_limit']}.");
}
$parameters['limit'] = (int) $limit;
$window = vbapi_field('window');
if ($window !== '' && $window !== 'start' && $window !== 'recorded') {
	vbapi_refuse("Field 'window' must be 'start' (the default) or 'recorded'.");
}
$columns = vbapi_query(
	$db,
	'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = :table',
	array('table' => 'v_xml_cdr')
)->fetchAll(PDO::FETCH_COLUMN);
$selected = array_values(array_intersect(VBAPI_CDR_COLUMNS, $columns));
if (!in_array('xml_cdr_uuid', $selected, true) || !in_array('start_stamp', $selected, true)) {
	vbapi_refuse("FusionPBX's database has no v_xml_cdr table with xml_cdr_uuid and start_stamp.", 500);
}
if ($window === 'recorded') {
	if (!in_array('insert_date', $columns, true)) {
		vbapi_refuse("window=recorded needs v_xml_cdr.insert_date, which this FusionPBX lacks; use window=start.", 500);
	}
	$stamp = 'COALESCE(insert_date, start_stamp)';
	$cursor = 'after_recorded';
	$selected[] = "$stamp AS recorded";
} else {
	$stamp = 'start_stamp';
	$cursor = 'after_start';
}
$sql = "FROM v_xml_cdr WHERE $stamp >= CAST(:date_start AS timestamptz) AND $stamp < CAST(:date_end AS timestamptz)";
if (vbapi_field('domain') !== '') {
	$sql .= ' AND domain_name = :domain';
	$parameters['domain'] = vbapi_required('domain', VBAPI_DOMAIN_PATTERN, 'domain name');
}
if (vbapi_field($cursor) !== '' || vbapi_field('after_uuid') !== '') {
	$parameters['after_stamp'] = vbapi_instant($cursor, $zone, false);
	$parameters['after_uuid'] = vbapi_required('after_uuid', VBAPI_UUID_PATTERN, 'xml_cdr_uuid');
	$sql .= " AND ($stamp, xml_cdr_uuid) > (CAST(:after_stamp AS timestamptz), CAST(:after_uuid AS uuid))";
}
$rows = vbapi_query(
	$db,
	'SELECT ' . implode(', ', $selected) . " $sql ORDER BY $stamp, xml_cdr_uuid LIMIT :limit",
	$parameters
)->fetchAll(PDO::FETCH_ASSOC);
vbapi_reply($rows);

/**
 * The timezone for dates without an offset: the timezone setting, else PHP's.
 */
function vbapi_export_zone($settings)
{
	$name = $settings['timezone'] !== '' ? $settings['timezone'] : date_default_timezone_get();
	try {
		return new DateTimeZone($name);
	} catch (Exception $error) {
		throw new RuntimeException("setting 'timezone' is not a time zone: $name");
	}
}

/**
 * The instant a date field names, as ISO 8601 with microseconds and offset; refuse if invalid.
 * A plain date is midnight starting that day, or for the end of a window ($end) the next day.
 */
function vbapi_instant($name, $zone, $end)
{
	$value = vbapi_field($name);
	$pattern = '/^([0-9]{4})-([0-9]{2})-([0-9]{2})'
		. '(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?$/';
	if ($value === '' || !preg_match($pattern, $value, $parts) || !checkdate((int) $parts[2], (int) $parts[3], (int) $parts[1])) {
		vbapi_refuse("Field '$name' must be an ISO 8601 date or time, like 2026-03-08 or 2026-03-08T10:00:00+00:00.");
	}
	if (isset($parts[4]) && ((int) $parts[4] > 23 || (int) $parts[5] > 59 || (isset($parts[6]) && (int) $parts[6] > 59))) {
		vbapi_refuse("Field '$name' has an impossible time of day.");
	}
	$instant = new DateTime($value, $zone);
	if (!isset($parts[4]) && $end) {
		$instant->modify('+1 day');
	}
	return $instant->format('Y-m-d\TH:i:s.uP');
}
