<?php
// Small stand-ins of the Perfex functions and objects the module calls (not Perfex code).

define('BASEPATH', __DIR__);

$GLOBALS['pxf'] = [
    'options' => [], 'tables' => ['tbloptions' => []], 'is_admin' => true, 'staff_id' => 1,
    'base' => 'https://crm.test/', 'menu' => [], 'hooks' => [], 'filters' => [], 'activation' => [], 'log' => [],
];

class PxfRedirect extends Exception {}

/** The options live in tbloptions rows, as in Perfex. */
function get_option($name)
{
    foreach ($GLOBALS['pxf']['tables']['tbloptions'] as $row) {
        if ($row['name'] === $name) {
            return $row['value'];
        }
    }
    return '';
}
function add_option($name, $value)
{
    foreach ($GLOBALS['pxf']['tables']['tbloptions'] as $row) {
        if ($row['name'] === $name) {
            return false;
        }
    }
    $GLOBALS['pxf']['tables']['tbloptions'][] = ['id' => count($GLOBALS['pxf']['tables']['tbloptions']) + 1, 'name' => $name, 'value' => $value];
    return true;
}
function update_option($name, $value)
{
    foreach ($GLOBALS['pxf']['tables']['tbloptions'] as &$row) {
        if ($row['name'] === $name) {
            $row['value'] = $value;
            return true;
        }
    }
    return add_option($name, $value);
}
function db_prefix() { return 'tbl'; }
function is_admin() { return $GLOBALS['pxf']['is_admin']; }
function get_staff_user_id() { return $GLOBALS['pxf']['staff_id']; }
function admin_url($path = '') { return $GLOBALS['pxf']['base'] . 'admin/' . $path; }
function site_url($path = '') { return $GLOBALS['pxf']['base'] . $path; }
function log_message($level, $message) { $GLOBALS['pxf']['log'][] = "$level: $message"; }
function redirect($url) { throw new PxfRedirect($url); }
function set_alert($type, $message) { $GLOBALS['pxf']['alerts'][] = [$type, $message]; }
function access_denied($what) { throw new PxfRedirect('denied:' . $what); }
function html_escape($text) { return htmlspecialchars((string) $text, ENT_QUOTES); }
function _d($ymd) { return implode('/', array_reverse(explode('-', $ymd))); }  // d/m/Y here
function to_sql_date($dmy) { return implode('-', array_reverse(explode('/', $dmy))); }
function register_activation_hook($module, $callback) { $GLOBALS['pxf']['activation']['activate'] = $callback; }
function register_deactivation_hook($module, $callback) { $GLOBALS['pxf']['activation']['deactivate'] = $callback; }
function register_uninstall_hook($module, $callback) { $GLOBALS['pxf']['activation']['uninstall'] = $callback; }

class PxfHooks
{
    public function add_action($tag, $callback, $priority = 10, $accepted_args = 1)
    {
        $GLOBALS['pxf']['hooks'][$tag][] = [$callback, $accepted_args];
    }
    public function add_filter($tag, $callback, $priority = 10, $accepted_args = 1)
    {
        $GLOBALS['pxf']['filters'][$tag][] = $callback;
    }
    public function do_action($tag, ...$args)
    {
        foreach ($GLOBALS['pxf']['hooks'][$tag] ?? [] as [$callback, $accepted]) {
            $callback(...array_slice($args, 0, $accepted));
        }
    }
    public function apply_filters($tag, $value)
    {
        foreach ($GLOBALS['pxf']['filters'][$tag] ?? [] as $callback) {
            $value = $callback($value);
        }
        return $value;
    }
}
function hooks() { static $hooks; return $hooks ??= new PxfHooks(); }

class PxfMenu
{
    public function add_sidebar_menu_item($slug, $item) { $GLOBALS['pxf']['menu'][$slug] = $item; }
    public function add_setup_menu_item($slug, $item) { $GLOBALS['pxf']['setup_menu'][$slug] = $item; }
}

/** A query builder over the rows in $GLOBALS['pxf']['tables']. */
class PxfDb
{
    private $wheres = [];
    private $likes = [];
    public function select($columns) { return $this; }
    public function where($column, $value) { $this->wheres[$column] = $value; return $this; }
    public function like($column, $value) { $this->likes[$column] = $value; return $this; }
    private function matches($row)
    {
        foreach ($this->wheres as $column => $value) {
            if ((string) ($row[$column] ?? '') !== (string) $value) {
                return false;
            }
        }
        foreach ($this->likes as $column => $value) {
            if (strpos((string) ($row[$column] ?? ''), (string) $value) === false) {
                return false;
            }
        }
        return true;
    }
    public function get($table)
    {
        $rows = array_values(array_filter($GLOBALS['pxf']['tables'][$table] ?? [], [$this, 'matches']));
        $this->wheres = $this->likes = [];
        return new class($rows) {
            public function __construct(private $rows) {}
            public function row() { return $this->rows ? (object) $this->rows[0] : null; }
        };
    }
    public function insert($table, $row)
    {
        $rows = &$GLOBALS['pxf']['tables'][$table];
        $rows = $rows ?? [];
        $row = ['id' => count($rows) + 1] + $row;
        $rows[] = $row;
        return $row['id'];
    }
    public function delete($table)
    {
        $GLOBALS['pxf']['tables'][$table] = array_values(array_filter(
            $GLOBALS['pxf']['tables'][$table] ?? [], fn ($row) => !$this->matches($row)
        ));
        $this->wheres = [];
        return true;
    }
}

/** Records payments like Perfex's model: a row, then the after_payment_added hook. */
class PxfPaymentsModel
{
    public $added = [];
    public function add($data)
    {
        $db = get_instance()->db;
        if (!$db->where('id', (int) $data['invoiceid'])->get('tblinvoices')->row()) {
            return false;
        }
        $this->added[] = $data;
        $GLOBALS['pxf']['tables']['payments_model_calls'][] = $data;
        $id = $db->insert('tblinvoicepaymentrecords', [
            'invoiceid' => (int) $data['invoiceid'], 'amount' => $data['amount'],
            'date' => to_sql_date($data['date']), 'daterecorded' => date('Y-m-d H:i:s'),
            'paymentmode' => $data['paymentmode'], 'transactionid' => $data['transactionid'],
            'note' => $data['note'],
        ]);
        hooks()->do_action('after_payment_added', $id);
        return $id;
    }
}

/** Adds invoices or credit notes like Perfex's models: the row, its items and their taxes. */
class PxfDocumentsModel
{
    public function __construct(private $table, private $rel_type, private $next, private $hook) {}
    public function add($data)
    {
        $db = get_instance()->db;
        $items = $data['newitems'];
        unset($data['newitems']);
        $data['date'] = to_sql_date($data['date']);
        $GLOBALS['pxf']['tables']['document_model_calls'][] = [$this->rel_type, $data, $items];
        $id = $db->insert($this->table, $data);
        foreach ($items as $item) {
            $taxes = $item['taxname'];
            unset($item['taxname']);
            $item['item_order'] = $item['order'];
            unset($item['order']);
            $item_id = $db->insert('tblitemable', ['rel_id' => $id, 'rel_type' => $this->rel_type] + $item);
            foreach ($taxes as $tax) {
                [$name, $rate] = explode('|', $tax);
                $db->insert('tblitem_tax', ['itemid' => $item_id, 'rel_id' => $id, 'rel_type' => $this->rel_type,
                    'taxname' => $name, 'taxrate' => $rate]);
            }
        }
        update_option($this->next, (string) ((int) get_option($this->next) + 1));
        hooks()->do_action($this->hook, $id);
        return $id;
    }
}
function format_invoice_number($id) { return 'INV-' . str_pad((string) $id, 6, '0', STR_PAD_LEFT); }
function format_credit_note_number($id) { return 'CN-' . str_pad((string) $id, 6, '0', STR_PAD_LEFT); }

/** The same query builder on a Perfex SQLite database (PDO). */
class PxfPdoDb
{
    private $pdo;
    private $wheres = [];
    public function __construct($path) { $this->pdo = new PDO('sqlite:' . $path); }
    public function select($columns) { return $this; }
    public function where($column, $value) { $this->wheres[$column] = $value; return $this; }
    public function get($table)
    {
        $sql = "SELECT * FROM $table" . $this->condition();
        $query = $this->pdo->prepare($sql);
        $query->execute(array_values($this->wheres));
        $this->wheres = [];
        $row = $query->fetch(PDO::FETCH_OBJ);
        return new class($row) {
            public function __construct(private $first) {}
            public function row() { return $this->first ?: null; }
        };
    }
    public function insert($table, $row)
    {
        $columns = implode(', ', array_keys($row));
        $marks = implode(', ', array_fill(0, count($row), '?'));
        $this->pdo->prepare("INSERT INTO $table ($columns) VALUES ($marks)")->execute(array_values($row));
        return (int) $this->pdo->lastInsertId();
    }
    private function condition()
    {
        $parts = array_map(fn ($column) => "$column = ?", array_keys($this->wheres));
        return $parts ? ' WHERE ' . implode(' AND ', $parts) : '';
    }
}

class PxfLoader
{
    public $views = [];
    public $models = [];
    public function model($name) { $this->models[] = $name; }
    public function view($name, $data = []) { $this->views[] = [$name, $data]; }
}

class PxfInput
{
    public $posted = [];
    public $raw_input_stream = '';
    public $headers = [];
    public $verb = 'get';
    public $query = [];
    public function post($name = null) { return $name === null ? $this->posted : ($this->posted[$name] ?? null); }
    public function get($name = null) { return $name === null ? $this->query : ($this->query[$name] ?? null); }
    public function method() { return $this->verb; }
    public function get_request_header($name) { return $this->headers[$name] ?? null; }
}

class PxfOutput
{
    public $status = 200;
    public $type = '';
    public $body = '';
    public function set_status_header($status) { $this->status = $status; return $this; }
    public function set_content_type($type) { $this->type = $type; return $this; }
    public function set_output($body) { $this->body = $body; return $this; }
}

function &get_instance()
{
    static $ci;
    if ($ci === null) {
        $ci = new stdClass();
        $ci->app_menu = new PxfMenu();
        $ci->db = new PxfDb();
        $ci->load = new PxfLoader();
        $ci->input = new PxfInput();
        $ci->output = new PxfOutput();
        $ci->payments_model = new PxfPaymentsModel();
        $ci->invoices_model = new PxfDocumentsModel('tblinvoices', 'invoice', 'next_invoice_number', 'after_invoice_added');
        $ci->credit_notes_model = new PxfDocumentsModel('tblcreditnotes', 'credit_note', 'next_credit_note_number', 'after_create_credit_note');
    }
    return $ci;
}

class App_Controller
{
    public function __get($name) { return get_instance()->$name; }
}
class AdminController extends App_Controller
{
    public function __construct() {}
}

/** Load the module as Perfex does: its main file (and, for pages, its controllers). */
function pxf_load_module()
{
    $root = dirname(__DIR__, 2) . '/perfex_module/pxflask';
    require_once $root . '/pxflask.php';
    require_once $root . '/controllers/Pxflask.php';
    require_once $root . '/controllers/Pxflask_api.php';
}

// Rendering: Perfex's page frame and form helpers, and the module's views.

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
