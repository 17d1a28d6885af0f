/** DicomAttribute and DicomDataset: one data element in the DICOM JSON model, and a nested item. */
import type { DicomDataset, DicomElement } from '../dicom/dataset.js';
import { lookupTag } from '../dicom/dictionary.js';
import { parseTag } from '../dicom/tag.js';
import { displayText, jsonValue, valueMultiplicity } from '../dicom/value.js';
import { builder } from './builder.js';

export const DicomAttributeRef = builder.objectRef<DicomElement>('DicomAttribute');
export const DicomDatasetRef = builder.objectRef<DicomDataset>('DicomDataset');

/** Looks a tag up in one or more data sets (file meta first), by any accepted tag spelling. */
export function findAttribute(datasets: readonly DicomDataset[], tag: string): DicomElement | null {
  const key = parseTag(tag);
  for (const ds of datasets) {
    const el = ds.get(key);
    if (el) return el;
  }
  return null;
}

/** The requested attributes in the order asked (absent ones skipped), or every element. */
export function listAttributes(datasets: readonly DicomDataset[], tags: readonly string[] | null | undefined): DicomElement[] {
  if (!tags) return datasets.flatMap((ds) => ds.elements);
  const keys = tags.map(parseTag); // validate them all before answering any
  return keys.flatMap((key) => {
    for (const ds of datasets) {
      const el = ds.get(key);
      if (el) return [el];
    }
    return [];
  });
}

DicomAttributeRef.implement({
  description: 'One data element, with its value in the DICOM JSON model (PS3.18 F.2).',
  fields: (t) => ({
    tag: t.exposeString('tag', { description: 'Tag as 8 upper-case hex digits, e.g. "00100020".' }),
    keyword: t.string({
      nullable: true,
      description: 'Dictionary keyword, e.g. "PatientID"; null for private or unknown tags.',
      resolve: (el) => lookupTag(el.tag)?.keyword ?? null,
    }),
    name: t.string({
      nullable: true,
      description: "Dictionary name, e.g. \"Patient ID\"; null for private or unknown tags.",
      resolve: (el) => lookupTag(el.tag)?.name ?? null,
    }),
    vr: t.exposeString('vr', { description: 'Value representation as encoded (UN when implicit and unknown).' }),
    vm: t.int({ description: 'Number of values.', resolve: (el) => valueMultiplicity(el) }),
    value: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'The "Value" array of the DICOM JSON model: numbers for numeric VRs, {Alphabetic, Ideographic, Phonetic} for PN, "GGGGEEEE" for AT. Null for binary VRs (see `text` for their length) and sequences (see `items`).',
      resolve: (el) => jsonValue(el),
    }),
    text: t.string({
      nullable: true,
      description: 'A readable form: values joined with "\\"; for binary VRs their length.',
      resolve: (el) => displayText(el),
    }),
    items: t.field({
      type: [DicomDatasetRef],
      nullable: true,
      description: 'Items of a sequence (SQ); null for other VRs.',
      resolve: (el) => (el.vr === 'SQ' || el.items ? (el.items ?? []) : null),
    }),
  }),
});

DicomDatasetRef.implement({
  description: 'A nested data set: one item of a sequence.',
  fields: (t) => ({
    attribute: t.field({
      type: DicomAttributeRef,
      nullable: true,
      args: { tag: t.arg.string({ required: true, description: 'e.g. "(0008,1150)", "00081150" or "ReferencedSOPClassUID"' }) },
      resolve: (ds, { tag }) => findAttribute([ds], tag),
    }),
    attributes: t.field({
      type: [DicomAttributeRef],
      args: { tags: t.arg.stringList({ required: false, description: 'Omit for every element of the item.' }) },
      resolve: (ds, { tags }) => listAttributes([ds], tags),
    }),
  }),
});
