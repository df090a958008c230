<?php
// `php -S` router: a stand-in Perfex admin (sidebar, the module's pages) for the browser test.
// State (options) in the JSON file $PXF_STATE.

require __DIR__ . '/standins.php';
pxf_load_module();

$GLOBALS['pxf']['tables'] = json_decode(file_get_contents(getenv('PXF_STATE')), true);
$GLOBALS['pxf']['base'] = 'http://' . $_SERVER['HTTP_HOST'] . '/';

$path = rtrim(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH), '/');
$pages = ['/admin/pxflask' => 'index', '/admin/pxflask/open' => 'open', '/admin/pxflask/frame' => 'frame'];
try {
    if ($path === '/admin') {
        init_head();
        echo '<div id="wrapper"><h1>Perfex CRM</h1><p>A stand-in of Perfex\'s admin.</p></div>';
        init_tail();
    } elseif (isset($pages[$path])) {
        (new Pxflask())->{$pages[$path]}();
        render_module_view();
    } else {
        http_response_code(404);
    }
} catch (PxfRedirect $to) {
    header('Location: ' . $to->getMessage(), true, 302);
}
return true;
