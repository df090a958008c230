<?php defined('BASEPATH') or exit('No direct script access allowed'); ?>
<?php init_head(); ?>
<div id="wrapper">
  <div class="content">
    <iframe src="<?php echo html_escape($src); ?>" title="Xero (pxflask)"
            style="width: 100%; height: calc(100vh - 120px); border: 0;"></iframe>
  </div>
</div>
<?php init_tail(); ?>
