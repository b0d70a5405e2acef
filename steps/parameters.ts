import { defineParameterType } from '@cucumber/cucumber';

// A service provider as the fleet names it: "BankCo", "TransitCo".
defineParameterType({ name: 'sp', regexp: /[A-Z][A-Za-z0-9]*/, transformer: (s) => s });
