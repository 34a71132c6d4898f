<?php
/**
 * voipbridge shim library: included by the fusionpbx, vodia and lesnet server modules and their
 * cron files. Installed as <WHMCS>/voipbridge/ (see the README's install guide); its settings
 * are in config.php beside it (copy config.example.php).
 */

declare(strict_types=1);

require_once __DIR__ . '/client.php';
require_once __DIR__ . '/module.php';
require_once __DIR__ . '/export.php';
require_once __DIR__ . '/cron.php';
