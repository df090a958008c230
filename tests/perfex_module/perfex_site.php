<?php
// `php -S` router: a stand-in Perfex admin (sidebar, the module's pages) for the browser test.
// State (options) in the JSON file $PXF_STATE.

require __DIR__ . '/standins.php';
pxf_load_module();

$GLOBALS['pxf']['tables'] = json_decode(file_get_contents(getenv('PXF_STATE')), true);
$GLOBALS['pxf']['base'] = 'http://' . $_SERVER['HTTP_HOST'] . '/';

/** The top of every admin page: the sidebar with the menu items modules added. */
function init_head()
{
    hooks()->do_action('admin_init');
    echo '<!doctype html><html><head><meta charset="utf-8"><title>Perfex CRM (stand-in)</title>',
        '<style>body{margin:0;font-family:sans-serif;display:flex}',
        'nav{width:200px;min-height:100vh;background:#1f2937;padding:16px}',
        'nav a{display:block;color:#f9fafb;padding:8px;text-decoration:none}',
        '#wrapper{flex:1;padding:16px}</style></head><body><nav id="sidebar">',
        '<a href="/admin">Dashboard</a><a href="/admin">Invoices</a>';
    foreach ($GLOBALS['pxf']['menu'] as $slug => $item) {
        $attributes = '';
        foreach ($item['href_attributes'] ?? [] as $name => $value) {
            $attributes .= ' ' . $name . '="' . html_escape($value) . '"';
        }
        echo '<a id="menu-' . $slug . '" href="' . html_escape($item['href']) . '"' . $attributes . '>',
            html_escape($item['name']), '</a>';
    }
    echo '</nav>';
}
function init_tail() { echo '</body></html>'; }
function form_open($action) { return '<form method="post" action="' . html_escape($action) . '">'; }
function form_close() { return '</form>'; }

/** Render the module's view the controller asked for. */
function render_module_view()
{
    $views = get_instance()->load->views;
    if (!$views) {
        return;
    }
    [$name, $data] = end($views);
    [$module, $view] = explode('/', $name, 2);
    extract($data);
    include dirname(__DIR__, 2) . "/perfex_module/$module/views/$view.php";
}

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
