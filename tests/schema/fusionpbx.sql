-- FusionPBX's tables the bridge's FusionPBX-side scripts (fusionpbx_api/) read and write, for
-- their tests. v_xml_cdr is in fusionpbx_v_xml_cdr.sql beside this file.
--
-- Columns and PostgreSQL types follow FusionPBX's own schema definitions (fusionpbx/fusionpbx
-- master, 2026): v_domains from core/domains/app_config.php, v_users and v_user_groups from
-- core/users/app_config.php, v_groups from core/groups/app_config.php, v_extensions and
-- v_extension_users from app/extensions/app_config.php, v_gateways from
-- app/gateways/app_config.php; same order, deprecated columns left out. FusionPBX names the
-- group membership table v_user_groups (v_group_users was its 3.x name). Like FusionPBX's schema
-- builder, only primary keys are declared: it does not create foreign key constraints.

CREATE TABLE v_domains (
    domain_uuid uuid PRIMARY KEY,
    domain_parent_uuid uuid,
    domain_name text,
    domain_enabled boolean,
    domain_description text,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_users (
    user_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    contact_uuid uuid,
    username text,
    password text,
    salt text,
    user_email text,
    user_status text,
    api_key text,
    user_totp_secret text,
    user_type text,
    user_enabled boolean,
    add_user text,
    add_date text,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_user_groups (
    user_group_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    group_name text,
    group_uuid uuid,
    user_uuid uuid,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_groups (
    group_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    group_name text,
    group_protected boolean,
    group_level numeric,
    group_description text,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_extensions (
    extension_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    extension text,
    number_alias text,
    password text,
    accountcode text,
    effective_caller_id_name text,
    effective_caller_id_number text,
    outbound_caller_id_name text,
    outbound_caller_id_number text,
    emergency_caller_id_name text,
    emergency_caller_id_number text,
    directory_first_name text,
    directory_last_name text,
    directory_visible boolean,
    directory_exten_visible boolean,
    max_registrations text,
    limit_max text,
    limit_destination text,
    missed_call_app text,
    missed_call_data text,
    user_context text,
    toll_allow text,
    call_timeout numeric,
    call_group text,
    call_screen_enabled boolean,
    user_record text,
    hold_music text,
    auth_acl text,
    cidr text,
    sip_force_contact text,
    nibble_account text,
    sip_force_expires numeric,
    mwi_account text,
    sip_bypass_media text,
    unique_id numeric,
    dial_string text,
    dial_user text,
    dial_domain text,
    do_not_disturb boolean,
    forward_all_destination text,
    forward_all_enabled boolean,
    forward_busy_destination text,
    forward_busy_enabled boolean,
    forward_no_answer_destination text,
    forward_no_answer_enabled boolean,
    forward_user_not_registered_destination text,
    forward_user_not_registered_enabled boolean,
    follow_me_uuid uuid,
    follow_me_enabled boolean,
    follow_me_destinations text,
    extension_language text,
    extension_dialect text,
    extension_voice text,
    extension_type text,
    enabled boolean,
    description text,
    absolute_codec_string text,
    force_ping boolean,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_extension_users (
    extension_user_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    extension_uuid uuid,
    user_uuid uuid,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);

CREATE TABLE v_gateways (
    gateway_uuid uuid PRIMARY KEY,
    domain_uuid uuid,
    gateway text,
    username text,
    password text,
    distinct_to boolean,
    auth_username text,
    realm text,
    from_user text,
    from_domain text,
    proxy text,
    register_proxy text,
    outbound_proxy text,
    expire_seconds numeric,
    register boolean,
    register_transport text,
    contact_params text,
    retry_seconds numeric,
    extension text,
    ping text,
    ping_min text,
    ping_max text,
    contact_in_ping boolean,
    caller_id_in_from boolean,
    supress_cng boolean,
    sip_cid_type text,
    codec_prefs text,
    channels numeric,
    extension_in_contact text,
    context text,
    profile text,
    hostname text,
    enabled boolean,
    description text,
    insert_date timestamptz,
    insert_user uuid,
    update_date timestamptz,
    update_user uuid
);
