<?php

defined('BASEPATH') or exit('No direct script access allowed');

/** Staff pages of the module: settings, open the panel (signed in), the panel in a frame. */
class Pxflask extends AdminController
{
    /** Only admins may open the panel or change its settings. */
    public function __construct()
    {
        parent::__construct();
        if (!is_admin()) {
            access_denied('pxflask');
        }
    }

    /** The settings page; saves the panel URL, secrets and how the menu opens the panel. */
    public function index()
    {
        if ($this->input->post()) {
            $url = rtrim(trim((string) $this->input->post('panel_url')), '/');
            if ($url !== '' && !preg_match('#^https?://#i', $url)) {
                set_alert('danger', 'The panel URL must start with https:// (or http:// on a trusted network).');
                redirect(admin_url('pxflask'));
            }
            update_option('pxflask_panel_url', $url);
            foreach (['shared_secret', 'bearer_token'] as $name) {
                $value = trim((string) $this->input->post($name));
                if ($value !== '') {  // blank keeps the stored secret
                    update_option('pxflask_' . $name, $value);
                }
            }
            $open_in = $this->input->post('open_in') === 'iframe' ? 'iframe' : 'tab';
            update_option('pxflask_open_in', $open_in);
            set_alert('success', 'pxflask settings saved.');
            redirect(admin_url('pxflask'));
        }
        $this->load->view('pxflask/settings', [
            'title'     => 'Xero (pxflask)',
            'panel_url' => get_option('pxflask_panel_url'),
            'open_in'   => get_option('pxflask_open_in'),
            'api_url'   => site_url('pxflask/pxflask_api'),
        ]);
    }

    /** Sign the admin in to the panel with a fresh token and go there. */
    public function open()
    {
        if (pxflask_panel_url() === '') {
            set_alert('warning', 'Set the panel URL first.');
            redirect(admin_url('pxflask'));
        }
        redirect(pxflask_sso_url(get_staff_user_id()));
    }

    /** The panel inside Perfex, signed in through the same token. */
    public function frame()
    {
        if (pxflask_panel_url() === '') {
            redirect(admin_url('pxflask'));
        }
        $this->load->view('pxflask/frame', [
            'title' => 'Xero',
            'src'   => pxflask_sso_url(get_staff_user_id()),
        ]);
    }
}
