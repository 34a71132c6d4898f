<?php
/**
 * FusionPBX server module for WHMCS: a thin shim over voipbridge (DESIGN.md §3).
 *
 * Every function forwards WHMCS's $params to the bridge's /v1/whmcs/fusionpbx/ACTION and maps the
 * answer to what WHMCS expects; the shared library and its config.php live in <WHMCS>/voipbridge/
 * (or the folder VOIPBRIDGE_LIB_DIR names in WHMCS's configuration.php).
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once (defined('VOIPBRIDGE_LIB_DIR') ? VOIPBRIDGE_LIB_DIR : dirname(__DIR__, 3) . '/voipbridge') . '/voipbridge.php';

function fusionpbx_MetaData(): array
{
    return voipbridge_cached_array('fusionpbx', 'meta', ['DisplayName' => 'FusionPBX (voipbridge)', 'APIVersion' => '1.1', 'RequiresServer' => true]);
}

function fusionpbx_ConfigOptions(array $params = []): array
{
    return voipbridge_cached_array('fusionpbx', 'config-options');
}

function fusionpbx_CreateAccount(array $params): string
{
    return voipbridge_action('fusionpbx', 'create', $params);
}

function fusionpbx_SuspendAccount(array $params): string
{
    return voipbridge_action('fusionpbx', 'suspend', $params);
}

function fusionpbx_UnsuspendAccount(array $params): string
{
    return voipbridge_action('fusionpbx', 'unsuspend', $params);
}

function fusionpbx_TerminateAccount(array $params): string
{
    return voipbridge_action('fusionpbx', 'terminate', $params);
}

function fusionpbx_ChangePackage(array $params): string
{
    return voipbridge_action('fusionpbx', 'change-package', $params);
}

function fusionpbx_TestConnection(array $params): array
{
    return voipbridge_test_connection('fusionpbx', $params);
}

function fusionpbx_AdminCustomButtonArray(array $params = []): array
{
    return voipbridge_cached_array('fusionpbx', 'buttons');
}

function fusionpbx_verifyLicense(array $params): string
{
    return voipbridge_button('fusionpbx', 'verify-license', $params);
}

function fusionpbx_activateLicense(array $params): string
{
    return voipbridge_button('fusionpbx', 'activate-license', $params);
}

function fusionpbx_collectCdrs(array $params): string
{
    return voipbridge_button('fusionpbx', 'collect-cdrs', $params);
}

function fusionpbx_AdminServicesTabFields(array $params): array
{
    return voipbridge_services_tab('fusionpbx', $params);
}

function fusionpbx_ClientArea(array $params): array
{
    return voipbridge_client_area('fusionpbx', $params);
}

function fusionpbx_ClientAreaAllowedFunctions(): array
{
    return ['exportCalls'];
}

function fusionpbx_exportCalls(array $params): string
{
    return voipbridge_export_calls('fusionpbx', $params);
}
