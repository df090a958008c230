<?php
// Drive the module from the Python tests:
//   php driver.php sign SECRET STAFF_ID [NOW]          prints a token the module signs
//   php driver.php hook PANEL_URL TOKEN HOOK JSON_ARG  fires the hook; prints {"sent", "seconds", "log"}
//   php driver.php invoice PANEL_URL TOKEN ID [ADMIN]  renders the invoice page hook; prints {"html", "seconds", "log"}

require __DIR__ . '/standins.php';
pxf_load_module();

$command = $argv[1] ?? '';
if ($command === 'sign') {
    echo pxflask_sign_token((int) $argv[3], $argv[2], isset($argv[4]) ? (int) $argv[4] : null), "\n";
    exit(0);
}
if ($command === 'hook') {
    update_option('pxflask_panel_url', $argv[2]);
    update_option('pxflask_bearer_token', $argv[3]);
    $GLOBALS['pxf']['tables']['tblcontacts'] = [['id' => 21, 'userid' => 5]];
    $start = microtime(true);
    hooks()->do_action($argv[4], json_decode($argv[5], true));
    $seconds = microtime(true) - $start;
    echo json_encode(['seconds' => $seconds, 'log' => $GLOBALS['pxf']['log']]), "\n";
    exit(0);
}
if ($command === 'invoice') {
    update_option('pxflask_panel_url', $argv[2]);
    update_option('pxflask_bearer_token', $argv[3]);
    $GLOBALS['pxf']['is_admin'] = ($argv[5] ?? '1') === '1';
    $start = microtime(true);
    ob_start();
    hooks()->do_action('after_invoice_preview_template_rendered', (object) ['id' => $argv[4]]);
    $html = ob_get_clean();
    $seconds = microtime(true) - $start;
    echo json_encode(['html' => $html, 'seconds' => $seconds, 'log' => $GLOBALS['pxf']['log']]), "\n";
    exit(0);
}
fwrite(STDERR, "usage: driver.php sign|hook|invoice ...\n");
exit(2);
