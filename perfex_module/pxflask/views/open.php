<?php defined('BASEPATH') or exit('No direct script access allowed'); ?>
<!doctype html>
<html><head><meta charset="utf-8">
<title>Opening the Xero panel…</title></head>
<body><p>Opening the Xero panel…</p>
<?php include __DIR__ . '/sso_form.php'; ?>
</body></html>
