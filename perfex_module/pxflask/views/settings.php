<?php defined('BASEPATH') or exit('No direct script access allowed'); ?>
<?php init_head(); ?>
<div id="wrapper">
  <div class="content">
    <div class="panel_s">
      <div class="panel-body">
        <h4>Xero (pxflask)</h4>
        <?php echo form_open(admin_url('pxflask')); ?>
          <div class="form-group">
            <label for="panel_url">Panel URL</label>
            <input type="url" class="form-control" id="panel_url" name="panel_url"
                   placeholder="https://crm.example.com/xero" value="<?php echo html_escape($panel_url); ?>">
          </div>
          <div class="form-group">
            <label for="shared_secret">Shared secret (PXFLASK_SSO_SECRET on the panel)</label>
            <input type="password" class="form-control" id="shared_secret" name="shared_secret"
                   autocomplete="new-password" placeholder="leave blank to keep the stored one">
          </div>
          <div class="form-group">
            <label for="bearer_token">Bearer token (PXFLASK_HOOK_TOKEN on the panel)</label>
            <input type="password" class="form-control" id="bearer_token" name="bearer_token"
                   autocomplete="new-password" placeholder="leave blank to keep the stored one">
          </div>
          <div class="form-group">
            <label>The "Xero" menu item opens the panel</label>
            <div class="radio"><label><input type="radio" name="open_in" value="tab"
              <?php echo $open_in !== 'iframe' ? 'checked' : ''; ?>> in a new tab</label></div>
            <div class="radio"><label><input type="radio" name="open_in" value="iframe"
              <?php echo $open_in === 'iframe' ? 'checked' : ''; ?>> inside Perfex</label></div>
          </div>
          <p class="text-muted">Payments from Xero are recorded through Perfex when the panel's
            PERFEX_MODULE_URL is <code><?php echo html_escape($api_url); ?></code>.</p>
          <button type="submit" class="btn btn-primary">Save</button>
          <a class="btn btn-default" target="_blank" rel="noopener"
             href="<?php echo admin_url('pxflask/open'); ?>">Open the panel</a>
        <?php echo form_close(); ?>
      </div>
    </div>
  </div>
</div>
<?php init_tail(); ?>
