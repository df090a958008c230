<?php
// The module's unit tests against the stand-ins: `php test_module.php` exits 1 on a failure.

require __DIR__ . '/standins.php';
pxf_load_module();

$failures = [];
$checks = 0;
function check($condition, $what)
{
    global $failures, $checks;
    $checks++;
    if (!$condition) {
        $failures[] = $what;
    }
}
function redirected_to(callable $action)
{
    try {
        $action();
    } catch (PxfRedirect $to) {
        return $to->getMessage();
    }
    return null;
}
$CI = &get_instance();
$hooks = $GLOBALS['pxf']['hooks'];

// Activation, re-activation, uninstall.
$GLOBALS['pxf']['tables']['tbloptions'][] = ['id' => 99, 'name' => 'companyname', 'value' => 'ACME'];
$GLOBALS['pxf']['activation']['activate']();
$secret = get_option('pxflask_shared_secret');
check(strlen($secret) === 64 && ctype_xdigit($secret), 'activation makes a random shared secret');
check(strlen(get_option('pxflask_bearer_token')) === 48, 'activation makes a bearer token');
check(get_option('pxflask_open_in') === 'tab', 'the menu opens a new tab by default');
$GLOBALS['pxf']['activation']['deactivate']();
$GLOBALS['pxf']['activation']['activate']();
check(get_option('pxflask_shared_secret') === $secret, 're-activation keeps the stored secret');
$GLOBALS['pxf']['activation']['uninstall']();
$left = array_column($GLOBALS['pxf']['tables']['tbloptions'], 'name');
check($left === ['companyname'], 'uninstall deletes the module\'s options only: ' . implode(',', $left));

// The menu item.
$GLOBALS['pxf']['activation']['activate']();
$GLOBALS['pxf']['is_admin'] = false;
hooks()->do_action('admin_init');
check(!isset($GLOBALS['pxf']['menu']['pxflask']), 'no menu item for staff who are not admins');
check(!isset($GLOBALS['pxf']['setup_menu']['pxflask']), 'nor a settings item');
$GLOBALS['pxf']['is_admin'] = true;
hooks()->do_action('admin_init');
$item = $GLOBALS['pxf']['menu']['pxflask'] ?? [];
check(($item['name'] ?? '') === 'Xero', 'admins get the "Xero" item');
check(($item['href'] ?? '') === 'https://crm.test/admin/pxflask/open', 'it opens the panel: ' . ($item['href'] ?? ''));
check(($item['href_attributes']['target'] ?? '') === '_blank', 'in a new tab');
check(($GLOBALS['pxf']['setup_menu']['pxflask']['href'] ?? '') === 'https://crm.test/admin/pxflask', 'settings under Setup');
update_option('pxflask_open_in', 'iframe');
hooks()->do_action('admin_init');
$item = $GLOBALS['pxf']['menu']['pxflask'];
check($item['href'] === 'https://crm.test/admin/pxflask/frame' && !isset($item['href_attributes']),
    'inside Perfex when the admin chose it');
check(in_array('pxflask/pxflask_api/.*', hooks()->apply_filters('csrf_exclude_uris', []), true),
    'the API is out of Perfex\'s CSRF check');

// The token.
$token = pxflask_sign_token(7, 'k', 1000);
[$body, $mac] = explode('.', $token);
$payload = json_decode(base64_decode(strtr($body, '-_', '+/')), true);
check($payload['staff'] === 7 && $payload['exp'] === 1060, 'the token names the staff and expires in 60 s');
check(preg_match('/^[0-9a-f]{32}$/', $payload['nonce']) === 1, 'with a random nonce');
check(hash_equals(pxflask_b64url(hash_hmac('sha256', $body, 'k', true)), $mac), 'signed with HMAC-SHA256');
check(strpbrk($token, '+/=') === false, 'in base64url without padding');
check(pxflask_sign_token(7, 'k', 1000) !== $token, 'a new nonce each time');

// Hook arguments of every shape.
check(pxflask_record_id(5) === 5 && pxflask_record_id('12') === 12, 'an id as a number or digits');
check(pxflask_record_id(['id' => '4', 'data' => []]) === 4, 'an array with id');
check(pxflask_record_id(['paymentid' => 8, 'invoiceid' => 3], 'paymentid') === 8, 'an array with paymentid');
check(pxflask_record_id(['invoice_id' => 3, 'status' => 2], 'invoice_id') === 3, 'an array with invoice_id');
check(pxflask_record_id(['copy_from' => 1, 'copy_id' => 9], 'copy_id') === 9, 'a copied invoice is the copy');
foreach ([0, -1, 'abc', '', null, [], ['x' => 1], 1.5, true] as $bad) {
    check(pxflask_record_id($bad) === null, 'no id in ' . json_encode($bad));
}
foreach (pxflask_hook_map() as $hook => $target) {
    check(isset($hooks[$hook]), "hook $hook is registered");
}
check(count(pxflask_hook_map()) >= 40, 'every hook of MODULES.md\'s table');

// A hook without a panel URL, an unknown hook, a bad argument: nothing sent, nothing thrown.
update_option('pxflask_panel_url', '');
check(pxflask_on_hook('after_invoice_added', 3) === false, 'no panel URL: nothing sent');
check(pxflask_on_hook('no_such_hook', 3) === false, 'an unknown hook: nothing sent');
$GLOBALS['pxf']['tables']['tblcontacts'] = [['id' => 21, 'userid' => 5]];
check(pxflask_contact_customer(21) === 5 && pxflask_contact_customer(22) === null, 'a contact names its customer');

// The bearer token of the API.
update_option('pxflask_bearer_token', 'tok-123');
check(pxflask_bearer_ok('Bearer tok-123') && !pxflask_bearer_ok('Bearer tok-12'), 'the bearer token is checked');
check(!pxflask_bearer_ok(null) && !pxflask_bearer_ok('Basic tok-123'), 'no header or another scheme: refused');
update_option('pxflask_bearer_token', '');
check(!pxflask_bearer_ok('Bearer '), 'no stored token: always refused');

// Payments through Perfex's payment model, once per transaction id.
$GLOBALS['pxf']['tables']['tblinvoices'] = [['id' => 3]];
$pay = ['invoiceid' => 3, 'amount' => '12.50', 'date' => '2026-12-01', 'transactionid' => 'x-1', 'paymentmode' => '2'];
[$status, $answer] = pxflask_record_payment($pay);
check($status === 201 && $answer === ['id' => 1, 'created' => true], 'a new payment: 201 ' . json_encode($answer));
check($CI->payments_model->added[0]['date'] === '01/12/2026', 'the date in Perfex\'s format, as its model expects');
[$status, $answer] = pxflask_record_payment($pay);
check($status === 200 && $answer['created'] === false && count($CI->payments_model->added) === 1, 'the same transaction: not again');
foreach (['amount' => '-1', 'date' => '1/12/2026', 'transactionid' => '', 'invoiceid' => 'x'] as $field => $value) {
    check(pxflask_record_payment(array_merge($pay, [$field => $value]))[0] === 400, "a bad $field: 400");
}
check(pxflask_record_payment(array_merge($pay, ['invoiceid' => 4, 'transactionid' => 'x-2']))[0] === 422, 'refused by the model: 422');

// The API controller.
update_option('pxflask_bearer_token', 'tok-123');
$api = new Pxflask_api();
$CI->input->verb = 'post';
$CI->input->headers = ['Authorization' => 'Bearer wrong'];
$api->payments();
check($CI->output->status === 401, 'the API refuses a wrong token');
$CI->input->headers = ['Authorization' => 'Bearer tok-123'];
$CI->input->raw_input_stream = json_encode(array_merge($pay, ['transactionid' => 'x-3']));
$api->payments();
check($CI->output->status === 201 && json_decode($CI->output->body, true)['created'] === true, 'the API records a payment');

// The staff pages.
update_option('pxflask_panel_url', 'https://crm.test/xero/');
update_option('pxflask_shared_secret', 'k');
$to = redirected_to(fn () => (new Pxflask())->open());
check(strpos((string) $to, 'https://crm.test/xero/sso?token=') === 0, 'open: to the panel\'s /sso: ' . $to);
$GLOBALS['pxf']['is_admin'] = false;
check(redirected_to(fn () => new Pxflask()) === 'denied:pxflask', 'staff pages are for admins only');
$GLOBALS['pxf']['is_admin'] = true;
(new Pxflask())->frame();
[$view, $data] = end($CI->load->views);
check($view === 'pxflask/frame' && strpos($data['src'], 'https://crm.test/xero/sso?token=') === 0, 'the frame opens /sso');
$CI->input->posted = ['panel_url' => 'https://panel.test/', 'shared_secret' => '', 'bearer_token' => 'new-token', 'open_in' => 'tab'];
redirected_to(fn () => (new Pxflask())->index());
check(get_option('pxflask_panel_url') === 'https://panel.test' && get_option('pxflask_shared_secret') === 'k'
    && get_option('pxflask_bearer_token') === 'new-token' && get_option('pxflask_open_in') === 'tab',
    'settings: saved; a blank secret keeps the stored one');
$CI->input->posted = ['panel_url' => 'javascript:alert(1)'];
redirected_to(fn () => (new Pxflask())->index());
check(get_option('pxflask_panel_url') === 'https://panel.test', 'a panel URL that is not http(s) is refused');

// The settings view: the stored values but never the secrets.
update_option('pxflask_shared_secret', 'very-secret-value');
$CI->input->posted = [];
ob_start();
(new Pxflask())->index();
render_module_view();
$html = ob_get_clean();
check(strpos($html, 'name="panel_url"') !== false && strpos($html, 'value="https://panel.test"') !== false,
    'the settings page shows the panel URL');
check(strpos($html, 'very-secret-value') === false && strpos($html, 'new-token') === false,
    'and never the stored secrets');
check(strpos($html, 'https://crm.test/pxflask/pxflask_api') !== false, 'it names the API address');

foreach ($failures as $failure) {
    echo "FAIL: $failure\n";
}
echo ($failures ? 'FAILED' : 'OK') . " $checks checks\n";
exit($failures ? 1 : 0);
