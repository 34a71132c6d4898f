<?php
/**
 * Vodia PBX server module for WHMCS: a thin shim over voipbridge (DESIGN.md §3).
 *
 * Every function forwards WHMCS's $params to the bridge's /v1/whmcs/vodia/ACTION and maps the
 * answer to what WHMCS expects; the shared library and its config.php live in <WHMCS>/voipbridge/
 * (or the folder VOIPBRIDGE_LIB_DIR names in WHMCS's configuration.php).
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once (defined('VOIPBRIDGE_LIB_DIR') ? VOIPBRIDGE_LIB_DIR : dirname(__DIR__, 3) . '/voipbridge') . '/voipbridge.php';

function vodia_MetaData(): array
{
    return voipbridge_cached_array('vodia', 'meta', ['DisplayName' => 'Vodia PBX (voipbridge)', 'APIVersion' => '1.1', 'RequiresServer' => true]);
}

function vodia_ConfigOptions(array $params = []): array
{
    return voipbridge_cached_array('vodia', 'config-options');
}

function vodia_CreateAccount(array $params): string
{
    return voipbridge_action('vodia', 'create', $params);
}

function vodia_SuspendAccount(array $params): string
{
    return voipbridge_action('vodia', 'suspend', $params);
}

function vodia_UnsuspendAccount(array $params): string
{
    return voipbridge_action('vodia', 'unsuspend', $params);
}

function vodia_TerminateAccount(array $params): string
{
    return voipbridge_action('vodia', 'terminate', $params);
}

function vodia_ChangePackage(array $params): string
{
    return voipbridge_action('vodia', 'change-package', $params);
}

function vodia_TestConnection(array $params): array
{
    return voipbridge_test_connection('vodia', $params);
}

function vodia_AdminCustomButtonArray(array $params = []): array
{
    return voipbridge_cached_array('vodia', 'buttons');
}

function vodia_verifyLicense(array $params): string
{
    return voipbridge_button('vodia', 'verify-license', $params);
}

function vodia_activateLicense(array $params): string
{
    return voipbridge_button('vodia', 'activate-license', $params);
}

function vodia_collectCdrs(array $params): string
{
    return voipbridge_button('vodia', 'collect-cdrs', $params);
}

function vodia_AdminServicesTabFields(array $params): array
{
    return voipbridge_services_tab('vodia', $params);
}

function vodia_ClientArea(array $params): array
{
    return voipbridge_client_area('vodia', $params);
}

function vodia_ClientAreaAllowedFunctions(): array
{
    return ['exportCalls'];
}

function vodia_exportCalls(array $params): string
{
    return voipbridge_export_calls('vodia', $params);
}
