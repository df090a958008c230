<?php
// `php -S` router: the module's API on the stand-ins, state kept in the JSON file $PXF_STATE
// (the payment rows in the Perfex SQLite database $PXF_PERFEX_SQLITE when set).

require __DIR__ . '/standins.php';
pxf_load_module();

$state = getenv('PXF_STATE');
$GLOBALS['pxf']['tables'] = json_decode(file_get_contents($state), true);
$CI = &get_instance();
if (getenv('PXF_PERFEX_SQLITE')) {  // payments go into this Perfex database
    $CI->db = new PxfPdoDb(getenv('PXF_PERFEX_SQLITE'));
}
$CI->input->verb = strtolower($_SERVER['REQUEST_METHOD']);
$CI->input->headers = ['Authorization' => $_SERVER['HTTP_AUTHORIZATION'] ?? null];
$CI->input->raw_input_stream = file_get_contents('php://input');
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$calls = ['/pxflask/pxflask_api/payments' => 'payments', '/pxflask/pxflask_api/documents' => 'documents'];
if (!isset($calls[$path])) {
    http_response_code(404);
    return true;
}
(new Pxflask_api())->{$calls[$path]}();
file_put_contents($state, json_encode($GLOBALS['pxf']['tables']));
http_response_code($CI->output->status);
header('Content-Type: ' . $CI->output->type);
echo $CI->output->body;
return true;
