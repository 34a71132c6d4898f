<?php
/**
 * LesNet server module for WHMCS: a thin shim over voipbridge (DESIGN.md §3).
 *
 * Every function forwards WHMCS's $params to the bridge's /v1/whmcs/lesnet/ACTION and maps the
 * answer to what WHMCS expects; the shared library and its config.php live in <WHMCS>/voipbridge/
 * (or the folder VOIPBRIDGE_LIB_DIR names in WHMCS's configuration.php).
 */

declare(strict_types=1);

if (!defined('WHMCS')) {
    die('This file cannot be accessed directly');
}

require_once (defined('VOIPBRIDGE_LIB_DIR') ? VOIPBRIDGE_LIB_DIR : dirname(__DIR__, 3) . '/voipbridge') . '/voipbridge.php';

function lesnet_MetaData(): array
{
    return voipbridge_cached_array('lesnet', 'meta', ['DisplayName' => 'LesNet (voipbridge)', 'APIVersion' => '1.1', 'RequiresServer' => true]);
}

function lesnet_ConfigOptions(array $params = []): array
{
    return voipbridge_cached_array('lesnet', 'config-options');
}

function lesnet_CreateAccount(array $params): string
{
    return voipbridge_action('lesnet', 'create', $params);
}

function lesnet_SuspendAccount(array $params): string
{
    return voipbridge_action('lesnet', 'suspend', $params);
}

function lesnet_UnsuspendAccount(array $params): string
{
    return voipbridge_action('lesnet', 'unsuspend', $params);
}

function lesnet_TerminateAccount(array $params): string
{
    return voipbridge_action('lesnet', 'terminate', $params);
}

function lesnet_ChangePackage(array $params): string
{
    return voipbridge_action('lesnet', 'change-package', $params);
}

function lesnet_TestConnection(array $params): array
{
    return voipbridge_test_connection('lesnet', $params);
}

function lesnet_AdminCustomButtonArray(array $params = []): array
{
    return voipbridge_cached_array('lesnet', 'buttons');
}

function lesnet_verifyLicense(array $params): string
{
    return voipbridge_button('lesnet', 'verify-license', $params);
}

function lesnet_activateLicense(array $params): string
{
    return voipbridge_button('lesnet', 'activate-license', $params);
}

function lesnet_collectCdrs(array $params): string
{
    return voipbridge_button('lesnet', 'collect-cdrs', $params);
}

function lesnet_AdminServicesTabFields(array $params): array
{
    return voipbridge_services_tab('lesnet', $params);
}

function lesnet_ClientArea(array $params): array
{
    return voipbridge_client_area('lesnet', $params);
}

function lesnet_ClientAreaAllowedFunctions(): array
{
    return ['exportCalls'];
}

function lesnet_exportCalls(array $params): string
{
    return voipbridge_export_calls('lesnet', $params);
}
