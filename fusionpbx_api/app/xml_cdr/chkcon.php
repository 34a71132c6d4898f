<?php
/*
 * voipbridge-fusionpbx-api: Test Connection. Answers whether the caller's IP is in
 * chkcon_whitelist.conf; no username or password is needed (every other script also checks
 * the API user's credentials). Refusals are logged.
 */

require_once dirname(__DIR__) . '/voipbridge_api/bootstrap.php';

vbapi_start(array('methods' => array('GET', 'POST'), 'auth' => false));
vbapi_reply(array('success' => 1, 'message' => VBAPI_GRANTED));
