// The trusted header's key and enforcement from outside the config file, as the anchor's
// deployments set them: TRUSTED_HEADER_PUBLIC_KEY in the environment (a binding in the worker) and
// --enforce-capability-filtering (the worker's ENFORCE_CAPABILITY_FILTERING=true), through the
// broker, the Envoy router and the worker, in both eras.
import { FROM_THE_ENVIRONMENT } from './access.case.ts';
import { describeAccessTable } from './describe-access-table.ts';

describeAccessTable([FROM_THE_ENVIRONMENT], {
  hostOptions: (ctx) => ({
    env: { TRUSTED_HEADER_PUBLIC_KEY: ctx.publicKeyPem },
    enforceCapabilityFiltering: true,
  }),
});
