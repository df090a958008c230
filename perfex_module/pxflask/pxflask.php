<?php

defined('BASEPATH') or exit('No direct script access allowed');

/*
Module Name: pxflask (Xero)
Description: Opens the pxflask Xero panel from Perfex, signs the admin in there, and nudges real-time syncs from Perfex's hooks.
Version: 1.0.0
Requires at least: 2.3.*
Author: pxflask
*/

define('PXFLASK_MODULE_NAME', 'pxflask');

require_once __DIR__ . '/includes/pxflask_functions.php';

register_activation_hook(PXFLASK_MODULE_NAME, 'pxflask_activate');
register_deactivation_hook(PXFLASK_MODULE_NAME, 'pxflask_deactivate');
register_uninstall_hook(PXFLASK_MODULE_NAME, 'pxflask_uninstall');

hooks()->add_action('admin_init', 'pxflask_add_menu_item');
hooks()->add_filter('csrf_exclude_uris', 'pxflask_csrf_exclude');
// The admin invoice page: "View in Xero" / "Online invoice" under the preview.
hooks()->add_action('after_invoice_preview_template_rendered', 'pxflask_show_invoice_links');
pxflask_register_hooks();

/** Create the module's options (kept as they are on a re-activation). */
function pxflask_activate()
{
    foreach (pxflask_option_defaults() as $name => $value) {
        add_option($name, $value);
    }
}

/** Nothing to undo: the options stay until the module is uninstalled. */
function pxflask_deactivate()
{
}

/** Delete every option the module created. */
function pxflask_uninstall()
{
    $CI = &get_instance();
    foreach (array_keys(pxflask_option_defaults()) as $name) {
        $CI->db->where('name', $name);
        $CI->db->delete(db_prefix() . 'options');
    }
}

/** The "Xero" sidebar item and the settings under Setup, for admins only. */
function pxflask_add_menu_item()
{
    if (!is_admin()) {
        return;
    }
    $menu = get_instance()->app_menu;
    $menu->add_setup_menu_item('pxflask', [
        'name'     => 'Xero (pxflask)',
        'href'     => admin_url('pxflask'),
        'position' => 65,
    ]);
    $in_frame = get_option('pxflask_open_in') === 'iframe';
    $item = [
        'name'     => 'Xero',
        'href'     => admin_url($in_frame ? 'pxflask/frame' : 'pxflask/open'),
        'icon'     => 'fa fa-exchange',
        'position' => 40,
    ];
    if (!$in_frame) {
        $item['href_attributes'] = ['target' => '_blank', 'rel' => 'noopener'];
    }
    $menu->add_sidebar_menu_item('pxflask', $item);
}

/** The panel calls the module's API with a bearer token, not a Perfex form. */
function pxflask_csrf_exclude($uris)
{
    $uris[] = 'pxflask/pxflask_api/.*';
    return $uris;
}
