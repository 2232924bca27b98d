import { parseStrict } from './xml-strict-parser.js';
import { SamlRejection } from './saml-rejection.js';

function reason(xml: string, options: Parameters<typeof parseStrict>[1] = {}): string | undefined {
  try {
    parseStrict(xml, options);
    return undefined;
  } catch (error) {
    if (error instanceof SamlRejection) return error.reason;
    throw error;
  }
}

describe('strict XML parsing of SAML messages', () => {
  test('a plain document parses', () => {
    expect(reason('<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:x"><b ID="1"/><c ID="2">t</c></a>')).toBeUndefined();
  });

  test.each([
    ['a DOCTYPE with an external entity', '<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>', 'dtd_forbidden'],
    ['an unused DOCTYPE', '<!DOCTYPE a><a/>', 'dtd_forbidden'],
    ['a DOCTYPE in odd case and spacing', '<! doctype a><a/>', 'dtd_forbidden'],
    ['billion laughs', '<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;">]><a>&l2;</a>', 'dtd_forbidden'],
    ['a processing instruction', '<a><?evil data?></a>', 'malformed_xml'],
    ['a non-UTF-8 encoding', '<?xml version="1.0" encoding="UTF-16"?><a/>', 'malformed_xml'],
    ['a comment', '<a>user@example.com<!---->.evil.com</a>', 'xml_comment'],
    ['an undefined entity', '<a>&nope;</a>', 'malformed_xml'],
    ['unclosed tags', '<a><b></a>', 'malformed_xml'],
    ['duplicate ID values', '<a><b ID="x"/><c ID="x"/></a>', 'signature_wrapping'],
    ['an ID and an Id with the same value', '<a><b ID="x"/><c Id="x"/></a>', 'signature_wrapping'],
    ['nesting deeper than 40', `${'<a>'.repeat(41)}${'</a>'.repeat(41)}`, 'malformed_xml'],
    ['more than 5000 elements', `<a>${'<b/>'.repeat(5000)}</a>`, 'malformed_xml'],
  ])('refuses %s', (_label, xml, expected) => {
    expect(reason(xml)).toBe(expected);
  });

  test('comments pass only when allowed', () => {
    expect(reason('<a>x<!-- c --></a>', { allowComments: true })).toBeUndefined();
  });
});
