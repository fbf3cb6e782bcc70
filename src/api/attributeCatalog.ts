export { ATTRIBUTE_NAMES, ATTRIBUTE_TEMPLATES, type AttributeTemplate } from '../conference/attributes/attributeCatalog.js';
