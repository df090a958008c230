<?php defined('BASEPATH') or exit('No direct script access allowed'); ?>
<form id="pxflask-sso" method="post" action="<?php echo html_escape($sso['action']); ?>"
      target="<?php echo html_escape($target); ?>">
  <?php foreach ($sso['fields'] as $name => $value) { ?>
  <input type="hidden" name="<?php echo html_escape($name); ?>" value="<?php echo html_escape($value); ?>">
  <?php } ?>
  <noscript><button type="submit">Open the Xero panel</button></noscript>
</form>
<script>document.getElementById('pxflask-sso').submit();</script>
