<?php

defined('BASEPATH') or exit('No direct script access allowed');

/** Seconds a sign-in token stays valid. */
const PXFLASK_TOKEN_TTL = 60;
/** Seconds a hook waits for the panel, connecting and in total. */
const PXFLASK_HOOK_TIMEOUT = 2;

/** The module's options and their values on activation. */
function pxflask_option_defaults()
{
    return [
        'pxflask_panel_url'     => '',
        'pxflask_shared_secret' => bin2hex(random_bytes(32)),
        'pxflask_bearer_token'  => bin2hex(random_bytes(24)),
        'pxflask_open_in'       => 'tab',
    ];
}

/** Base64 without padding, URL-safe. */
function pxflask_b64url($bytes)
{
    return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
}

/** A signed single-use sign-in token: base64url(payload) "." base64url(HMAC-SHA256). */
function pxflask_sign_token($staff_id, $secret, $now = null, $ttl = PXFLASK_TOKEN_TTL)
{
    $payload = json_encode([
        'staff' => (int) $staff_id,
        'exp'   => ($now === null ? time() : $now) + $ttl,
        'nonce' => bin2hex(random_bytes(16)),
    ]);
    $body = pxflask_b64url($payload);
    return $body . '.' . pxflask_b64url(hash_hmac('sha256', $body, $secret, true));
}

/** The panel's address without a trailing slash ('' when unset). */
function pxflask_panel_url()
{
    return rtrim(trim((string) get_option('pxflask_panel_url')), '/');
}

/**
 * The sign-in form's fields for the staff member: the panel's /sso address and a fresh
 * token, POSTed (never in a URL, so never in an access log), and a `next` path if given.
 */
function pxflask_sso_form($staff_id, $next = '')
{
    $fields = ['token' => pxflask_sign_token($staff_id, (string) get_option('pxflask_shared_secret'))];
    $next = (string) $next;
    if ($next !== '' && $next[0] === '/') {  // the panel checks it again (its safe_next)
        $fields['next'] = $next;
    }
    return ['action' => pxflask_panel_url() . '/sso', 'fields' => $fields];
}

/** Perfex hook => [pxflask entity, key of the id when the argument is an array]. */
function pxflask_hook_map()
{
    $id = 'id';
    return [
        'after_invoice_added'             => ['invoices', $id],
        'invoice_updated'                 => ['invoices', $id],
        'invoice_sent'                    => ['invoices', $id],
        'invoice_marked_as_cancelled'     => ['invoices', $id],
        'invoice_unmarked_as_cancelled'   => ['invoices', $id],
        'after_invoice_deleted'           => ['invoices', $id],
        'invoice_copied'                  => ['invoices', 'copy_id'],
        'invoice_status_changed'          => ['invoices', 'invoice_id'],
        'after_recurring_invoice_created' => ['invoices', 'new_invoice_id'],
        'after_payment_added'             => ['payments', $id],
        'after_payment_updated'           => ['payments', $id],
        'after_payment_deleted'           => ['payments', 'paymentid'],
        'after_create_credit_note'        => ['credit-notes', $id],
        'after_update_credit_note'        => ['credit-notes', $id],
        'after_credit_note_deleted'       => ['credit-notes', $id],
        'credit_note_status_changed'      => ['credit-notes', $id],
        'credits_applied'                 => ['credit-notes', 'credit_note_id'],
        'created_credit_note_from_invoice' => ['credit-notes', 'credit_note_id'],
        'after_client_created'            => ['customers', $id],
        'client_updated'                  => ['customers', $id],
        'customer_updated_company_info'   => ['customers', $id],
        'client_status_changed'           => ['customers', $id],
        'after_client_deleted'            => ['customers', $id],
        'contact_created'                 => ['contacts', $id],
        'contact_updated'                 => ['contacts', $id],
        'contact_deleted'                 => ['contacts', $id],
        'contact_status_changed'          => ['contacts', $id],
        'item_created'                    => ['items', $id],
        'after_item_updated'              => ['items', $id],
        'item_deleted'                    => ['items', $id],
        'item_coppied'                    => ['items', $id],
        'after_tax_created'               => ['taxes', $id],
        'after_update_tax'                => ['taxes', $id],
        'after_paymentmode_added'         => ['payment-modes', $id],
        'after_update_paymentmode'        => ['payment-modes', $id],
        'after_expense_added'             => ['expenses', $id],
        'expense_updated'                 => ['expenses', $id],
        'after_expense_deleted'           => ['expenses', $id],
        'expense_converted_to_invoice'    => ['expenses', 'expense_id'],
        'after_recurring_expense_created' => ['expenses', 'new_expense_id'],
    ];
}

/** Add one action per mapped hook. */
function pxflask_register_hooks()
{
    foreach (pxflask_hook_map() as $hook => $target) {
        hooks()->add_action($hook, function ($arg = null) use ($hook) {
            pxflask_on_hook($hook, $arg);
        }, 10, 1);
    }
}

/** The record id in a hook's argument: an id, or the given key (then id, userid) of an array. */
function pxflask_record_id($arg, $key = 'id')
{
    if (is_array($arg)) {
        foreach ([$key, 'id', 'userid'] as $name) {
            if (isset($arg[$name]) && !is_array($arg[$name])) {
                return pxflask_record_id($arg[$name]);
            }
        }
        return null;
    }
    if (is_int($arg) || (is_string($arg) && ctype_digit($arg))) {
        $id = (int) $arg;
        return $id > 0 ? $id : null;
    }
    return null;
}

/** Tell the panel about the change a hook reports; never throws. */
function pxflask_on_hook($hook, $arg)
{
    try {
        $map = pxflask_hook_map();
        if (!isset($map[$hook]) || !empty($GLOBALS['pxflask_adding_from_xero'])) {
            return false;  // a document the panel is adding from Xero: it links it itself
        }
        [$entity, $key] = $map[$hook];
        $id = pxflask_record_id($arg, $key);
        if ($id !== null && $entity === 'contacts') {
            [$entity, $id] = ['customers', pxflask_contact_customer($id)];
        }
        if ($id === null) {
            return false;
        }
        return pxflask_notify($entity, $id);
    } catch (Throwable $e) {
        log_message('error', 'pxflask: hook ' . $hook . ' not sent: ' . $e->getMessage());
        return false;
    }
}

/** The customer (tblcontacts.userid) of a contact; null when the contact is gone. */
function pxflask_contact_customer($contact_id)
{
    $row = get_instance()->db->select('userid')->where('id', $contact_id)
        ->get(db_prefix() . 'contacts')->row();
    return $row ? pxflask_record_id($row->userid) : null;
}

/** POST {"entity", "id"} to the panel's /hooks/perfex; true on a 2xx answer. */
function pxflask_notify($entity, $id)
{
    $url = pxflask_panel_url();
    $token = (string) get_option('pxflask_bearer_token');
    if ($url === '' || $token === '') {
        return false;
    }
    $status = pxflask_post_json($url . '/hooks/perfex', ['entity' => $entity, 'id' => $id], $token);
    if ($status < 200 || $status >= 300) {
        log_message('error', 'pxflask: ' . $entity . ' ' . $id . ' not sent (HTTP ' . $status . ')');
        return false;
    }
    return true;
}

/** POST JSON with a bearer token and a short timeout; the HTTP status, 0 when unreachable. */
function pxflask_post_json($url, $body, $token)
{
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        CURLOPT_POST           => true,
        CURLOPT_POSTFIELDS     => json_encode($body),
        CURLOPT_HTTPHEADER     => ['Content-Type: application/json', 'Authorization: Bearer ' . $token],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => PXFLASK_HOOK_TIMEOUT,
        CURLOPT_TIMEOUT        => PXFLASK_HOOK_TIMEOUT,
        CURLOPT_NOSIGNAL       => true,
    ]);
    curl_exec($curl);
    $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    return $status;
}

/** True when the request carries the module's bearer token (constant-time). */
function pxflask_bearer_ok($header)
{
    $expected = (string) get_option('pxflask_bearer_token');
    if ($expected === '' || stripos((string) $header, 'Bearer ') !== 0) {
        return false;
    }
    return hash_equals($expected, trim(substr($header, 7)));
}

/** Record a payment from Xero through Perfex's payment model, once per transaction id. */
function pxflask_record_payment($body)
{
    $invoice = pxflask_record_id($body['invoiceid'] ?? null);
    $amount = (string) ($body['amount'] ?? '');
    $date = (string) ($body['date'] ?? '');
    $transaction = trim((string) ($body['transactionid'] ?? ''));
    if ($invoice === null || !preg_match('/^\d{1,13}(\.\d{1,2})?$/', $amount) || (float) $amount <= 0
        || !preg_match('/^\d{4}-\d{2}-\d{2}$/', $date) || $transaction === '') {
        return [400, ['error' => 'send invoiceid, amount, date (YYYY-MM-DD) and transactionid']];
    }
    $CI = &get_instance();
    $existing = $CI->db->where('invoiceid', $invoice)->where('transactionid', $transaction)
        ->get(db_prefix() . 'invoicepaymentrecords')->row();
    if ($existing) {
        return [200, ['id' => (int) $existing->id, 'created' => false]];
    }
    $CI->load->model('payments_model');
    $id = $CI->payments_model->add([
        'invoiceid'     => $invoice,
        'amount'        => $amount,
        'date'          => _d($date),
        'paymentmode'   => (string) ($body['paymentmode'] ?? ''),
        'transactionid' => $transaction,
        'note'          => (string) ($body['note'] ?? ''),
    ]);
    if (!$id) {
        return [422, ['error' => 'Perfex refused the payment on invoice ' . $invoice]];
    }
    return [201, ['id' => (int) $id, 'created' => true]];
}

/** The https URL when its host is one of Xero's (go.xero.com, in.xero.com), else null. */
function pxflask_safe_xero_url($url)
{
    $url = trim((string) $url);
    $parts = parse_url($url);
    if ($url === '' || !is_array($parts) || ($parts['scheme'] ?? '') !== 'https'
        || isset($parts['user']) || isset($parts['pass']) || isset($parts['port'])
        || !in_array(strtolower($parts['host'] ?? ''), ['go.xero.com', 'in.xero.com'], true)) {
        return null;
    }
    return $url;
}

/** GET JSON with a bearer token and the hook's short timeout: [status, decoded body or null]. */
function pxflask_get_json($url, $token)
{
    $curl = curl_init($url);
    curl_setopt_array($curl, [
        CURLOPT_HTTPHEADER     => ['Accept: application/json', 'Authorization: Bearer ' . $token],
        CURLOPT_RETURNTRANSFER => true,
        CURLOPT_CONNECTTIMEOUT => PXFLASK_HOOK_TIMEOUT,
        CURLOPT_TIMEOUT        => PXFLASK_HOOK_TIMEOUT,
        CURLOPT_NOSIGNAL       => true,
    ]);
    $body = curl_exec($curl);
    $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
    curl_close($curl);
    $decoded = is_string($body) ? json_decode($body, true) : null;
    return [$status, is_array($decoded) ? $decoded : null];
}

/** The links to Xero the panel keeps for a Perfex record; null when none (or unreachable). */
function pxflask_xero_links($entity, $id)
{
    $url = pxflask_panel_url();
    $token = (string) get_option('pxflask_bearer_token');
    $id = pxflask_record_id($id);
    if ($url === '' || $token === '' || $id === null) {
        return null;
    }
    [$status, $body] = pxflask_get_json($url . '/hooks/perfex/xero-links/' . rawurlencode($entity) . '/' . $id, $token);
    if ($status !== 200 || $body === null || empty($body['linked'])) {
        if ($status !== 200) {
            log_message('error', 'pxflask: links of ' . $entity . ' ' . $id . ' not read (HTTP ' . $status . ')');
        }
        return null;
    }
    return [
        'deep_link'  => pxflask_safe_xero_url($body['deep_link'] ?? ''),
        'online_url' => pxflask_safe_xero_url($body['online_url'] ?? ''),
    ];
}

/** "View in Xero" and "Online invoice" for an invoice, as HTML ('' when there is nothing). */
function pxflask_invoice_links_html($invoice)
{
    $id = is_object($invoice) ? ($invoice->id ?? null) : (is_array($invoice) ? ($invoice['id'] ?? null) : $invoice);
    $links = pxflask_xero_links('invoices', $id);
    if ($links === null) {
        return '';
    }
    $anchors = [];
    foreach (['deep_link' => 'View in Xero', 'online_url' => 'Online invoice'] as $key => $label) {
        if ($links[$key] !== null) {
            $anchors[] = '<a class="btn btn-default btn-sm" href="' . htmlspecialchars($links[$key], ENT_QUOTES)
                . '" target="_blank" rel="noopener noreferrer">' . $label . '</a>';
        }
    }
    return $anchors ? '<div class="pxflask-xero-links mtop10">' . implode(' ', $anchors) . '</div>' : '';
}

/** Print the invoice's links to Xero under the admin invoice preview (admins only); never throws. */
function pxflask_show_invoice_links($invoice = null)
{
    try {
        if (is_admin()) {
            echo pxflask_invoice_links_html($invoice);
        }
    } catch (Throwable $e) {
        log_message('error', 'pxflask: links to Xero not shown: ' . $e->getMessage());
    }
}

/** Perfex's options and models of a document kind: [table, next number, prefix, format, model]. */
function pxflask_document_kind($kind)
{
    $kinds = [
        'invoice'     => ['invoices', 'next_invoice_number', 'invoice_prefix', 'invoice_number_format', 'invoices_model'],
        'credit_note' => ['creditnotes', 'next_credit_note_number', 'credit_note_prefix', 'credit_note_number_format', 'credit_notes_model'],
    ];
    return $kinds[$kind] ?? null;
}

/** Add an invoice or credit note made in Xero through Perfex's own model, once per Xero id. */
function pxflask_create_document($body)
{
    $kind = pxflask_document_kind((string) ($body['kind'] ?? ''));
    $xero_id = trim((string) ($body['xero_id'] ?? ''));
    $client = pxflask_record_id($body['clientid'] ?? null);
    $date = (string) ($body['date'] ?? '');
    $items = $body['items'] ?? null;
    if ($kind === null || !preg_match('/^[0-9A-Fa-f-]{8,64}$/', $xero_id) || $client === null
        || !preg_match('/^\d{4}-\d{2}-\d{2}$/', $date) || !is_array($items) || !$items) {
        return [400, ['error' => 'send kind, xero_id, clientid, date (YYYY-MM-DD) and items']];
    }
    [$table, $next, $prefix, $format, $model] = $kind;
    $CI = &get_instance();
    $existing = $CI->db->like('adminnote', $xero_id)->get(db_prefix() . $table)->row();
    if ($existing) {
        return [200, ['id' => (int) $existing->id, 'created' => false, 'number' => pxflask_document_number($body['kind'], $existing->id)]];
    }
    $newitems = [];
    foreach (array_values($items) as $order => $item) {
        $newitems[] = [
            'description'      => (string) ($item['description'] ?? ''),
            'long_description' => '',
            'qty'              => (string) ($item['qty'] ?? '1'),
            'unit'             => '',
            'rate'             => (string) ($item['rate'] ?? '0'),
            'order'            => $order + 1,
            'taxname'          => array_map('strval', (array) ($item['taxes'] ?? [])),
        ];
    }
    $data = [
        'clientid'         => $client,
        'number'           => get_option($next),
        'prefix'           => get_option($prefix),
        'number_format'    => get_option($format),
        'date'             => _d($date),
        'currency'         => (int) ($body['currency'] ?? 0),
        'subtotal'         => (string) ($body['subtotal'] ?? '0'),
        'total'            => (string) ($body['total'] ?? '0'),
        'discount_type'    => '',
        'discount_percent' => 0,
        'discount_total'   => 0,
        'adjustment'       => 0,
        'adminnote'        => (string) ($body['adminnote'] ?? ''),
        'clientnote'       => '',
        'terms'            => '',
        'show_quantity_as' => 1,
        'newitems'         => $newitems,
    ];
    if ($body['kind'] === 'invoice') {
        $due = (string) ($body['duedate'] ?? '');
        $data['duedate'] = preg_match('/^\d{4}-\d{2}-\d{2}$/', $due) ? _d($due) : '';
    } else {
        $data['reference_no'] = (string) ($body['reference_no'] ?? '');
    }
    $CI->load->model($model);
    $GLOBALS['pxflask_adding_from_xero'] = true;
    try {
        $id = $CI->$model->add($data);
    } finally {
        $GLOBALS['pxflask_adding_from_xero'] = false;
    }
    if (!$id) {
        return [422, ['error' => 'Perfex refused the ' . str_replace('_', ' ', $body['kind'])]];
    }
    return [201, ['id' => (int) $id, 'created' => true, 'number' => pxflask_document_number($body['kind'], $id)]];
}

/** The number Perfex shows for a document. */
function pxflask_document_number($kind, $id)
{
    return $kind === 'invoice' ? format_invoice_number($id) : format_credit_note_number($id);
}
