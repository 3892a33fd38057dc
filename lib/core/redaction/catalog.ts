/**
 * The catalog of built-in redaction detectors: their stable ids (used as policy keys
 * under `redaction.detectors`) and the typed placeholder each writes. The policy schema,
 * the engine and the generated spec all read this one list; what each detector finds is
 * described in `catalog-docs.ts` (text the Lambda bundles do not carry).
 */

/** Detectors of personal data. The policy may set each to `plain`, `keyed` or `off`. */
export const PII_DETECTORS = {
  email: { placeholder: 'EMAIL' },
  phone: { placeholder: 'PHONE' },
  card: { placeholder: 'CARD' },
  iban: { placeholder: 'IBAN' },
  ssn: { placeholder: 'SSN' },
  ipv4: { placeholder: 'IP' },
  ipv6: { placeholder: 'IP' },
} as const;

/** Detectors of secrets. Always on, always a plain placeholder: a secret is never tokenized. */
export const SECRET_DETECTORS = {
  aws_access_key: { placeholder: 'AWS_ACCESS_KEY' },
  aws_secret_key: { placeholder: 'AWS_SECRET_KEY' },
  github_token: { placeholder: 'GITHUB_TOKEN' },
  slack_token: { placeholder: 'SLACK_TOKEN' },
  stripe_key: { placeholder: 'STRIPE_KEY' },
  openai_key: { placeholder: 'OPENAI_KEY' },
  anthropic_key: { placeholder: 'ANTHROPIC_KEY' },
  google_api_key: { placeholder: 'GOOGLE_API_KEY' },
  jwt: { placeholder: 'JWT' },
  private_key: { placeholder: 'PRIVATE_KEY' },
  bearer_token: { placeholder: 'BEARER_TOKEN' },
  password: { placeholder: 'PASSWORD' },
  url_credentials: { placeholder: 'URL_CREDENTIALS' },
  generic_secret: { placeholder: 'SECRET' },
} as const;

export type PiiDetectorId = keyof typeof PII_DETECTORS;
export type SecretDetectorId = keyof typeof SECRET_DETECTORS;
export type DetectorId = PiiDetectorId | SecretDetectorId;

/** How a PII detector replaces what it finds. */
export const PII_MODES = ['plain', 'keyed', 'off'] as const;
export type PiiMode = (typeof PII_MODES)[number];

export const PII_DETECTOR_IDS = Object.keys(PII_DETECTORS) as PiiDetectorId[];
export const SECRET_DETECTOR_IDS = Object.keys(SECRET_DETECTORS) as SecretDetectorId[];
