"""The filler text of ``needle_haystack``: plain prose written for assay (no digits anywhere, so no run of
it can be read as a needle's seven-digit value), a sentence per line. Shipped as a module so it travels in
every install without package-data settings; the haystack builder reorders and repeats it with the seed."""

FILLER = """\
The old canal runs behind the market, and in early spring its water turns the colour of weak tea.
Nobody remembers who planted the row of plane trees along the towpath, but everyone agrees they were a good idea.
A good workshop is quiet in the morning, when the tools are still where they were left the night before.
Bakers learn early that dough cannot be hurried, only watched and encouraged.
The library kept its atlases on the lowest shelf, where children could pull them out and spread them on the floor.
Most arguments about the weather are really arguments about what someone hoped to do that afternoon.
When the ferry stopped running, the island did not become lonelier so much as more particular about its visitors.
A map is useful precisely because it leaves out nearly everything that is true about a place.
The orchard was planted on a slope so that the cold air of frosty nights would drain away from the blossom.
Good editors read a sentence twice: once for what it says and once for what it forgot to say.
The lighthouse keeper wrote the same three words in the log each evening, and then added the wind.
Rivers carry more than water; they carry silt, seeds, rumours and the patience of everyone who lives beside them.
A garden that is never finished is the only kind that stays interesting.
In the hill villages, bread was baked once a week in a shared oven that belonged to no one in particular.
Learning a craft is mostly learning which mistakes are worth making on purpose.
The museum guard knew every painting by the way its varnish caught the light at closing time.
Snow makes a city honest for a day, because every footprint shows where someone really went.
The best teachers ask questions whose answers they are genuinely curious to hear.
Across the valley the church bell rang a little flat, and the town had long since stopped minding.
A well kept notebook is less a record of the past than a set of instructions for the future.
Fishermen read the sky the way clerks read ledgers, looking for the small entry that changes the balance.
The railway cutting filled with wild roses in summer, as if the hillside wanted its wound forgotten.
Carpenters say that wood remembers the tree, and it will twist back toward its old shape if it is rushed.
A quiet street is not empty; it is simply busy with things that make no noise.
The choir rehearsed in a cold hall, and their breath rose above the sopranos like a second, silent harmony.
Every harbour town has a story about a ship that came home long after it had been mourned.
Cooking for many people teaches humility, because the pot does not care how clever the recipe was.
The weaver kept a basket of broken threads, saying that even failures should be sorted by colour.
On long walks the mind wanders ahead, and the feet are left to find the path on their own.
Beekeepers move slowly not from fear but from respect for a household that is not their own.
Old houses settle and creak at night, which is only the timber agreeing with the season.
A conversation at the kitchen table often goes further than a meeting in a room built for decisions.
The potter threw bowls all afternoon and kept only the ones that felt right in an empty hand.
Clouds over the sea build slowly in the afternoon and break suddenly at dusk, like a held breath let go.
Stone walls in the uplands were built without mortar, each stone chosen to lean on its neighbours.
A traveller who keeps a small diary sees more, because writing down a day asks what was worth noticing.
The tailor measured twice and cut once, and still kept a strip of spare cloth for the customer who changed his mind.
Migrating geese pass over the marsh in ragged lines, calling to each other as if checking who is still there.
In a good index, the word you are looking for is found under the word you would have thought of first.
The village school had one stove, and lessons in winter were arranged by distance from it.
A bridge is a promise that the other side is worth the trouble of getting to.
Wind turns the grasses silver on the dunes, then dark again, so that the whole shore seems to breathe.
The repair shop smelled of oil and solder, and its owner could tell a clock's fault by listening to it.
People who garden in small yards tend to know every plant by the way it looks after rain.
The night train crossed the plain without stopping, its lit windows passing like a sentence read too quickly.
Apprentices sweep the floor first, because a clean floor shows where every shaving and every mistake has fallen.
A long table under a tree can turn an ordinary lunch into something people talk about for years.
The tide leaves its signature on the sand twice a day and never writes it the same way.
Good bread needs flour, water, salt, time and someone willing to come back and check on it.
The cartographer drew the coastline from a small boat, and every bay on the chart remembers a different wind.
Evening light in the mountains arrives from below, climbing the slopes as the valley falls into shadow.
A shop that has sold buttons for generations keeps its oldest drawer for the ones nobody can match.
The path through the wood was never planned; it was simply agreed on by everyone who walked it.
Musicians tune to each other rather than to a perfect note, and the music is better for it.
When the power failed, the street brought out candles and chairs, and the evening became a small festival.
Letters written by hand take longer to arrive in the mind than in the mailbox, and they stay longer too.
The ice on the pond sang in the cold, a long falling note that the skaters pretended not to hear.
A city park is a treaty between the people who want quiet and the people who want to play.
The gardener pruned the roses hard in autumn, trusting the spring to understand what she meant.
"""

SENTENCES: tuple[str, ...] = tuple(line.strip() for line in FILLER.splitlines() if line.strip())
