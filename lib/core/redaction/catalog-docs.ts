/**
 * What each built-in detector finds, in words: the text half of the catalog, for the
 * generated spec and reviewers. Kept apart from `catalog.ts` so the Lambda bundles, which
 * need only ids and placeholders, do not carry it. The type requires an entry per detector.
 */
import type { DetectorId } from './catalog';

export const DETECTOR_DESCRIPTIONS: Readonly<Record<DetectorId, string>> = {
  email: 'email addresses',
  phone: 'phone numbers (North American, E.164 and national formats)',
  card: 'payment card numbers (Luhn-validated)',
  iban: 'IBANs (mod-97 validated)',
  ssn: 'US social security numbers',
  ipv4: 'IPv4 addresses',
  ipv6: 'IPv6 addresses (full and compressed)',
  aws_access_key: 'AWS access key ids (AKIA/ASIA)',
  aws_secret_key: 'AWS secret access keys (by context)',
  github_token: 'GitHub tokens (classic and fine-grained)',
  slack_token: 'Slack tokens and incoming-webhook URLs',
  stripe_key: 'Stripe secret and restricted keys',
  openai_key: 'OpenAI API keys',
  anthropic_key: 'Anthropic API keys',
  google_api_key: 'Google API keys',
  jwt: 'JSON Web Tokens',
  private_key: 'PEM private key blocks',
  bearer_token: 'bearer and basic credentials in Authorization headers',
  password: 'passwords in assignments and plain phrases',
  url_credentials: 'credentials inside URLs (scheme://user:pass@host)',
  generic_secret: 'high-entropy values assigned to key-like names',
};
