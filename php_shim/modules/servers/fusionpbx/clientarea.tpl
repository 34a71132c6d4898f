{* voipbridge: the page the bridge rendered (autoescaped there), or the shim's escaped error. *}
{$voipbridge_html nofilter}
