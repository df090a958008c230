<?php defined('BASEPATH') or exit('No direct script access allowed'); ?>
<?php init_head(); ?>
<div id="wrapper">
  <div class="content">
    <iframe name="pxflask-panel" src="about:blank" title="Xero (pxflask)"
            style="width: 100%; height: calc(100vh - 120px); border: 0;"></iframe>
    <?php include __DIR__ . '/sso_form.php'; ?>
  </div>
</div>
<?php init_tail(); ?>
