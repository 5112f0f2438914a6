// English product titles and descriptions drawn from a small vocabulary per category, so a catalogue made
// by a test or by `sgfd data synth --raw` reads like a shop's and its categories are told apart by meaning
// (the words of two categories never overlap), not by an id.
import { Rng } from '@sgfd/data';

export interface CategoryVocabulary {
  path: string;
  nouns: string[];
  traits: string[];
  uses: string[];
}

export const PRODUCT_CATEGORIES: CategoryVocabulary[] = [
  {
    path: 'Office Products > Writing > Pens',
    nouns: ['gel pen', 'ballpoint pen', 'fountain pen', 'rollerball pen', 'felt tip marker', 'fine liner'],
    traits: ['smooth writing', 'quick drying ink', 'fine point', 'retractable', 'refillable', 'smudge proof'],
    uses: ['taking notes', 'signing documents', 'journaling', 'sketching', 'writing letters'],
  },
  {
    path: 'Office Products > Paper > Notebooks',
    nouns: ['spiral notebook', 'composition book', 'hardcover journal', 'legal pad', 'dot grid notebook'],
    traits: ['college ruled', 'acid free pages', 'perforated sheets', '120 pages', 'thick paper', 'lay flat binding'],
    uses: ['class notes', 'meeting minutes', 'bullet journaling', 'homework', 'to do lists'],
  },
  {
    path: 'Office Products > Desk Accessories > Staplers',
    nouns: ['desktop stapler', 'heavy duty stapler', 'electric stapler', 'long reach stapler', 'mini stapler'],
    traits: ['jam free', '40 sheet capacity', 'metal construction', 'non slip base', 'spring loaded'],
    uses: ['binding reports', 'office paperwork', 'booklets', 'school projects'],
  },
  {
    path: 'Kitchen > Cookware > Frying Pans',
    nouns: ['nonstick frying pan', 'cast iron skillet', 'stainless steel saute pan', 'ceramic fry pan', 'wok'],
    traits: ['induction compatible', 'oven safe', 'even heating', 'dishwasher safe', 'stay cool handle'],
    uses: ['searing steak', 'frying eggs', 'stir fry', 'pancakes', 'browning onions'],
  },
  {
    path: 'Kitchen > Coffee > Coffee Makers',
    nouns: ['drip coffee maker', 'espresso machine', 'french press', 'pour over dripper', 'cold brew maker'],
    traits: ['programmable timer', 'thermal carafe', 'built in grinder', '12 cup capacity', 'milk frother'],
    uses: ['morning coffee', 'lattes', 'brewing for guests', 'iced coffee'],
  },
  {
    path: 'Garden > Watering > Hoses',
    nouns: ['garden hose', 'expandable hose', 'soaker hose', 'hose reel', 'spray nozzle'],
    traits: ['kink resistant', 'leak proof fittings', '50 foot', 'lightweight', 'UV resistant'],
    uses: ['watering plants', 'washing the car', 'lawn care', 'filling the pool'],
  },
  {
    path: 'Toys > Puzzles > Jigsaw Puzzles',
    nouns: ['jigsaw puzzle', 'wooden puzzle', 'floor puzzle', '3D puzzle', 'puzzle set'],
    traits: ['1000 pieces', 'vivid colours', 'thick cardboard', 'glare free finish', 'ages 8 and up'],
    uses: ['family game night', 'rainy afternoons', 'brain training', 'gifts for kids'],
  },
  {
    path: 'Sports > Fitness > Yoga Mats',
    nouns: ['yoga mat', 'exercise mat', 'pilates mat', 'travel yoga mat', 'cork yoga mat'],
    traits: ['non slip surface', 'extra thick cushioning', 'carrying strap', 'eco friendly', 'sweat resistant'],
    uses: ['home workouts', 'stretching', 'hot yoga', 'meditation'],
  },
];

const BRANDS = ['Acme', 'Northwind', 'Bluebird', 'Everyday', 'Summit', 'Harbor', 'Maple', 'Orion'];
const COLOURS = ['black', 'blue', 'red', 'green', 'grey', 'white'];

export interface ProductText {
  category: number;
  title: string;
  description: string;
}

/**
 * A seeded product of category `c`: a title like "Northwind gel pen NW-4821, fine point, blue". The model
 * number makes every product's text its own.
 */
export function productText(rng: Rng, c: number, serial: number): ProductText {
  const v = PRODUCT_CATEGORIES[c]!;
  const pick = <T>(list: T[]) => list[rng.int(list.length)]!;
  const brand = pick(BRANDS);
  const model = `${brand.slice(0, 2).toUpperCase()}-${1000 + serial}`;
  const title = `${brand} ${pick(v.nouns)} ${model}, ${pick(v.traits)}, ${pick(COLOURS)}`;
  const description = `A ${pick(v.traits)} ${pick(v.nouns)} for ${pick(v.uses)}. ${capitalise(pick(v.traits))} and ${pick(v.traits)}.`;
  return { category: c, title, description };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
