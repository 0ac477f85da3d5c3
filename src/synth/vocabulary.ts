/**
 * The small fixed tables the synthetic tasks draw from. Words are short, lower-case and common so
 * that they cost few tokens; every letter used by the "starting with" task has at least five words
 * (a wrong-count response needs one more word than the largest requested count, 4).
 */

export const WORDS: readonly string[] = [
  'ant', 'arm', 'axe', 'ape', 'art',
  'bat', 'bed', 'bus', 'box', 'bag', 'bell', 'bird',
  'cat', 'cup', 'car', 'cow', 'cake', 'coin',
  'dog', 'den', 'desk', 'duck', 'door', 'drum',
  'egg', 'elk', 'ear', 'eel', 'elf',
  'fan', 'fox', 'fig', 'fish', 'frog',
  'gum', 'goat', 'gate', 'gift', 'glue',
  'hat', 'hen', 'hill', 'horn', 'hut',
  'jam', 'jar', 'jet', 'jug', 'joke',
  'kite', 'key', 'kid', 'king', 'kiwi',
  'lamp', 'leaf', 'lid', 'log', 'lake',
  'map', 'mug', 'mop', 'milk', 'moon',
  'nut', 'net', 'nest', 'nose', 'nail',
  'owl', 'oak', 'oil', 'oven', 'orb',
  'pen', 'pig', 'pot', 'pan', 'pear',
  'rat', 'rug', 'ring', 'rose', 'road',
  'sun', 'sock', 'sea', 'star', 'ship',
  'top', 'toy', 'tent', 'tree', 'tub',
  'van', 'vase', 'vest', 'vine', 'vet',
  'web', 'wig', 'wall', 'wolf', 'wind',
  'yak', 'yam', 'yarn', 'yard', 'yolk',
  'zoo', 'zip', 'zero', 'zone', 'zinc',
];

export const LETTERS: readonly string[] = [...'abcdefghijklmnopqrstuvwxyz'];

/** Antonym pairs; both directions are asked ("opposite of 'hot'" and "opposite of 'cold'"). */
export const OPPOSITES: readonly (readonly [string, string])[] = [
  ['hot', 'cold'], ['up', 'down'], ['yes', 'no'], ['in', 'out'], ['day', 'night'],
  ['left', 'right'], ['wet', 'dry'], ['fast', 'slow'], ['happy', 'sad'], ['light', 'dark'],
  ['early', 'late'], ['full', 'empty'], ['true', 'false'], ['win', 'lose'], ['buy', 'sell'],
  ['push', 'pull'], ['first', 'last'], ['top', 'bottom'], ['black', 'white'], ['rich', 'poor'],
  ['hard', 'soft'], ['thick', 'thin'], ['loud', 'quiet'], ['north', 'south'], ['east', 'west'],
];
