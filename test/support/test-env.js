'use strict';
// Keeps the App Insights SDK on loopback in every test: no statsbeat, no live metrics host, no Azure VM
// metadata probe (the Functions variables make the SDK take its Functions path), and no connection string
// inherited from a developer's shell.
Object.assign(process.env, {
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
  APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
  APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
  OTEL_NODE_RESOURCE_DETECTORS: 'none',
  FUNCTIONS_EXTENSION_VERSION: '~4',
  WEBSITE_SITE_NAME: 'snapshot-cleanup-tests',
});
delete process.env.APPLICATIONINSIGHTS_CONNECTION_STRING;
delete process.env.KEY_VAULT_URL;
