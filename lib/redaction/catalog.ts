/**
 * The catalog of built-in redaction detectors: their stable ids (used as policy keys
 * under `redaction.detectors`) and the typed placeholder each writes. The policy schema,
 * the engine and the generated spec all read this one list.
 */

/** Detectors of personal data. The policy may set each to `plain`, `keyed` or `off`. */
export const PII_DETECTORS = {
  email: { placeholder: 'EMAIL', description: 'email addresses' },
  phone: { placeholder: 'PHONE', description: 'phone numbers (North American, E.164 and national formats)' },
  card: { placeholder: 'CARD', description: 'payment card numbers (Luhn-validated)' },
  iban: { placeholder: 'IBAN', description: 'IBANs (mod-97 validated)' },
  ssn: { placeholder: 'SSN', description: 'US social security numbers' },
  ipv4: { placeholder: 'IP', description: 'IPv4 addresses' },
  ipv6: { placeholder: 'IP', description: 'IPv6 addresses (full and compressed)' },
} as const;

/** Detectors of secrets. Always on, always a plain placeholder: a secret is never tokenized. */
export const SECRET_DETECTORS = {
  aws_access_key: { placeholder: 'AWS_ACCESS_KEY', description: 'AWS access key ids (AKIA/ASIA)' },
  aws_secret_key: { placeholder: 'AWS_SECRET_KEY', description: 'AWS secret access keys (by context)' },
  github_token: { placeholder: 'GITHUB_TOKEN', description: 'GitHub tokens (classic and fine-grained)' },
  slack_token: { placeholder: 'SLACK_TOKEN', description: 'Slack tokens and incoming-webhook URLs' },
  stripe_key: { placeholder: 'STRIPE_KEY', description: 'Stripe secret and restricted keys' },
  openai_key: { placeholder: 'OPENAI_KEY', description: 'OpenAI API keys' },
  anthropic_key: { placeholder: 'ANTHROPIC_KEY', description: 'Anthropic API keys' },
  google_api_key: { placeholder: 'GOOGLE_API_KEY', description: 'Google API keys' },
  jwt: { placeholder: 'JWT', description: 'JSON Web Tokens' },
  private_key: { placeholder: 'PRIVATE_KEY', description: 'PEM private key blocks' },
  bearer_token: { placeholder: 'BEARER_TOKEN', description: 'bearer and basic credentials in Authorization headers' },
  password: { placeholder: 'PASSWORD', description: 'passwords in assignments and plain phrases' },
  url_credentials: { placeholder: 'URL_CREDENTIALS', description: 'credentials inside URLs (scheme://user:pass@host)' },
  generic_secret: { placeholder: 'SECRET', description: 'high-entropy values assigned to key-like names' },
} as const;

export type PiiDetectorId = keyof typeof PII_DETECTORS;
export type SecretDetectorId = keyof typeof SECRET_DETECTORS;
export type DetectorId = PiiDetectorId | SecretDetectorId;

/** How a PII detector replaces what it finds. */
export const PII_MODES = ['plain', 'keyed', 'off'] as const;
export type PiiMode = (typeof PII_MODES)[number];

export const PII_DETECTOR_IDS = Object.keys(PII_DETECTORS) as PiiDetectorId[];
export const SECRET_DETECTOR_IDS = Object.keys(SECRET_DETECTORS) as SecretDetectorId[];
