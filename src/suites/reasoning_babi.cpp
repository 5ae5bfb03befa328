// bAbI-style story tasks (Weston et al. 2015): a small world of people, places and objects is
// simulated event by event, each event written as one short sentence, and a question is asked
// whose answer the simulation knows. Stories are drawn until they meet the task's conditions
// (e.g. the asked-about object changed place at least twice), so every question is answerable
// from the story alone and has exactly one answer.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <optional>

#include "reasoning_tasks.hpp"
#include "tenx/util/error.hpp"

namespace tenx::suites::reasoning {
namespace {

const std::vector<std::string> kPeople = {"Mary", "John", "Sandra", "Daniel"};
const std::vector<std::string> kPlaces = {"kitchen", "garden", "office", "bedroom", "hallway",
                                          "bathroom"};
const std::vector<std::string> kObjects = {"apple", "football", "milk"};
const std::vector<std::string> kMoveVerbs = {"went to", "moved to", "travelled to", "journeyed to"};
const std::vector<std::string> kGetVerbs = {"picked up", "got", "grabbed"};
const std::vector<std::string> kDropVerbs = {"dropped", "put down", "discarded"};
const std::vector<std::string> kCountWords = {"none", "one", "two", "three"};

constexpr int kMaxLines = 8;
constexpr int kMaxDraws = 100000;  // rejection sampling bound; hitting it is a generator bug

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string qa_prompt(const std::vector<std::string>& lines, const std::string& question) {
  return join_lines(lines) + "Q: " + question + "\nA:";
}

// The people/places/objects world of tasks 1, 2, 3, 6, 7 and 8.
struct World {
  std::map<int, int> person_place;           // person -> place (absent: unknown)
  std::map<int, int> holder;                 // object -> person holding it
  std::map<int, int> object_place;           // object -> place (absent: unknown)
  std::map<int, std::vector<int>> carrying;  // person -> objects in pick-up order
  std::map<int, std::vector<int>> history;   // object -> places it was at, consecutive distinct
  std::vector<std::string> lines;
  std::vector<bool> touched_person = std::vector<bool>(kPeople.size(), false);

  void note_object_place(int object, int place) {
    object_place[object] = place;
    auto& h = history[object];
    if (h.empty() || h.back() != place) h.push_back(place);
  }
  void move(Rng& rng, int person, int place) {
    person_place[person] = place;
    touched_person[person] = true;
    for (int o : carrying[person]) note_object_place(o, place);
    lines.push_back(fmt::format("{} {} the {}.", kPeople[person], rng.pick(kMoveVerbs), kPlaces[place]));
  }
  void get(Rng& rng, int person, int object) {
    holder[object] = person;
    carrying[person].push_back(object);
    touched_person[person] = true;
    note_object_place(object, person_place.at(person));
    lines.push_back(fmt::format("{} {} the {}.", kPeople[person], rng.pick(kGetVerbs), kObjects[object]));
  }
  void drop(Rng& rng, int person, int object) {
    holder.erase(object);
    auto& c = carrying[person];
    c.erase(std::find(c.begin(), c.end(), object));
    touched_person[person] = true;
    lines.push_back(fmt::format("{} {} the {}.", kPeople[person], rng.pick(kDropVerbs), kObjects[object]));
  }

  // One random event: a move, a pick-up (by a located person of a free object) or a drop.
  // `with_objects` false gives move-only stories (tasks 1 and 6).
  void random_event(Rng& rng, int n_people, bool with_objects) {
    int person = static_cast<int>(rng.below(static_cast<std::uint64_t>(n_people)));
    std::uint64_t kind = with_objects ? rng.below(10) : 0;
    if (kind >= 5 && kind < 8 && person_place.count(person)) {
      std::vector<int> free;
      for (int o = 0; o < static_cast<int>(kObjects.size()); ++o)
        if (!holder.count(o)) free.push_back(o);
      if (!free.empty()) return get(rng, person, rng.pick(free));
    }
    if (kind >= 8 && !carrying[person].empty()) return drop(rng, person, rng.pick(carrying[person]));
    int place = static_cast<int>(rng.below(kPlaces.size()));
    if (person_place.count(person) && person_place[person] == place)
      place = (place + 1 + static_cast<int>(rng.below(kPlaces.size() - 1))) % static_cast<int>(kPlaces.size());
    move(rng, person, place);
  }
};

World random_world(Rng& rng, int min_lines, bool with_objects) {
  World w;
  int n_people = static_cast<int>(rng.range(2, 4));
  int n_lines = static_cast<int>(rng.range(min_lines, kMaxLines));
  while (static_cast<int>(w.lines.size()) < n_lines) w.random_event(rng, n_people, with_objects);
  return w;
}

template <typename Fn>
Item draw_until(const char* task, Fn&& attempt) {
  for (int i = 0; i < kMaxDraws; ++i)
    if (auto item = attempt()) return std::move(*item);
  throw Error(std::string("reasoning/") + task, "no valid story after many draws");
}

// qa1: where is a person (the last move decides).
Item single_fact(Rng& rng) {
  return draw_until("single_fact", [&]() -> std::optional<Item> {
    World w = random_world(rng, 2, false);
    std::vector<int> located;
    for (const auto& [p, _] : w.person_place) located.push_back(p);
    int p = rng.pick(located);
    return make_generate(qa_prompt(w.lines, fmt::format("Where is {}?", kPeople[p])),
                         kPlaces[w.person_place[p]]);
  });
}

// qa2: where is an object (who holds it, and where that person is).
Item two_facts(Rng& rng) {
  return draw_until("two_facts", [&]() -> std::optional<Item> {
    World w = random_world(rng, 3, true);
    std::vector<int> known;
    for (const auto& [o, _] : w.object_place) known.push_back(o);
    if (known.empty()) return std::nullopt;
    int o = rng.pick(known);
    return make_generate(qa_prompt(w.lines, fmt::format("Where is the {}?", kObjects[o])),
                         kPlaces[w.object_place[o]]);
  });
}

// qa3: where was an object before a place it reached (that place occurs once in its history).
Item three_facts(Rng& rng) {
  return draw_until("three_facts", [&]() -> std::optional<Item> {
    World w = random_world(rng, 4, true);
    std::vector<std::pair<int, int>> options;  // (object, index into its history)
    for (const auto& [o, h] : w.history)
      for (std::size_t i = 1; i < h.size(); ++i)
        if (std::count(h.begin(), h.end(), h[i]) == 1) options.emplace_back(o, static_cast<int>(i));
    if (options.empty()) return std::nullopt;
    auto [o, i] = rng.pick(options);
    const auto& h = w.history[o];
    return make_generate(
        qa_prompt(w.lines, fmt::format("Where was the {} before the {}?", kObjects[o], kPlaces[h[i]])),
        kPlaces[h[i - 1]]);
  });
}

// qa6: is a person in a place (yes/no, balanced by drawing the answer first).
Item yes_no(Rng& rng) {
  bool want_yes = rng.chance(1, 2);
  return draw_until("yes_no", [&]() -> std::optional<Item> {
    World w = random_world(rng, 2, false);
    std::vector<int> located;
    for (const auto& [p, _] : w.person_place) located.push_back(p);
    int p = rng.pick(located);
    int place = w.person_place[p];
    if (!want_yes) place = (place + 1 + static_cast<int>(rng.below(kPlaces.size() - 1))) % static_cast<int>(kPlaces.size());
    return make_choice(qa_prompt(w.lines, fmt::format("Is {} in the {}?", kPeople[p], kPlaces[place])),
                       {"yes", "no"}, want_yes ? 0 : 1);
  });
}

// qa7: how many objects a person carries (answer drawn first so that counts are balanced).
Item counting(Rng& rng) {
  int want = static_cast<int>(rng.below(4));
  return draw_until("counting", [&]() -> std::optional<Item> {
    World w = random_world(rng, 3, true);
    std::vector<int> people;
    for (int p = 0; p < static_cast<int>(kPeople.size()); ++p)
      if (w.touched_person[p] && static_cast<int>(w.carrying[p].size()) == want) people.push_back(p);
    if (people.empty()) return std::nullopt;
    int p = rng.pick(people);
    return make_generate(
        qa_prompt(w.lines, fmt::format("How many objects is {} carrying?", kPeople[p])),
        kCountWords[want]);
  });
}

// qa8: what a person carries, in pick-up order ("nothing" when empty).
Item lists(Rng& rng) {
  int want = static_cast<int>(rng.below(3));  // 0, 1 or 2 objects, balanced
  return draw_until("lists", [&]() -> std::optional<Item> {
    World w = random_world(rng, 3, true);
    std::vector<int> people;
    for (int p = 0; p < static_cast<int>(kPeople.size()); ++p)
      if (w.touched_person[p] && static_cast<int>(w.carrying[p].size()) == want) people.push_back(p);
    if (people.empty()) return std::nullopt;
    int p = rng.pick(people);
    std::string answer;
    for (int o : w.carrying[p]) answer += (answer.empty() ? "" : ",") + kObjects[o];
    if (answer.empty()) answer = "nothing";
    return make_generate(qa_prompt(w.lines, fmt::format("What is {} carrying?", kPeople[p])), answer, 12);
  });
}

// ---- tasks 15, 16, 17, 19: their own small worlds ------------------------------------------

// qa15: "Sheep are afraid of wolves. Gertrude is a sheep. What is Gertrude afraid of?"
Item deduction(Rng& rng) {
  const std::vector<std::string> singular = {"mouse", "sheep", "wolf", "cat"};
  const std::vector<std::string> plural = {"Mice", "Sheep", "Wolves", "Cats"};
  const std::vector<std::string> names = {"Gertrude", "Winona", "Emily", "Jessica"};
  std::vector<std::string> rules;
  std::vector<int> fears(4);
  for (int s = 0; s < 4; ++s) {
    fears[s] = (s + 1 + static_cast<int>(rng.below(3))) % 4;  // never afraid of its own kind
    std::string feared = plural[fears[s]];
    feared[0] = static_cast<char>(feared[0] - 'A' + 'a');
    rules.push_back(fmt::format("{} are afraid of {}.", plural[s], feared));
  }
  rng.shuffle(rules);
  int n_animals = static_cast<int>(rng.range(1, 3));
  auto who = rng.sample(names.size(), static_cast<size_t>(n_animals));
  std::vector<std::string> lines = rules;
  std::vector<int> kind(static_cast<size_t>(n_animals));
  for (int i = 0; i < n_animals; ++i) {
    kind[i] = static_cast<int>(rng.below(4));
    lines.push_back(fmt::format("{} is a {}.", names[who[i]], singular[kind[i]]));
  }
  int q = static_cast<int>(rng.below(static_cast<std::uint64_t>(n_animals)));
  return make_generate(qa_prompt(lines, fmt::format("What is {} afraid of?", names[who[q]])),
                       singular[fears[kind[q]]]);
}

// qa16: "Lily is a swan. Lily is white. Greg is a swan. What color is Greg?"
Item induction(Rng& rng) {
  const std::vector<std::string> species = {"swan", "lion", "frog", "rhino"};
  const std::vector<std::string> colors = {"white", "yellow", "green", "gray"};
  const std::vector<std::string> names = {"Lily", "Bernhard", "Greg", "Julius", "Brian"};
  std::vector<int> color_of(4);
  for (int s = 0; s < 4; ++s) color_of[s] = static_cast<int>(rng.below(4));
  int n_examples = static_cast<int>(rng.range(1, 3));
  auto who = rng.sample(names.size(), static_cast<size_t>(n_examples + 1));
  auto kinds = rng.sample(species.size(), static_cast<size_t>(n_examples));  // distinct species
  std::vector<std::vector<std::string>> pairs;
  for (int i = 0; i < n_examples; ++i)
    pairs.push_back({fmt::format("{} is a {}.", names[who[i]], species[kinds[i]]),
                     fmt::format("{} is {}.", names[who[i]], colors[color_of[kinds[i]]])});
  rng.shuffle(pairs);
  std::vector<std::string> lines;
  for (const auto& p : pairs) lines.insert(lines.end(), p.begin(), p.end());
  int asked_kind = static_cast<int>(kinds[rng.below(static_cast<std::uint64_t>(n_examples))]);
  const std::string& asked = names[who[static_cast<size_t>(n_examples)]];
  lines.push_back(fmt::format("{} is a {}.", asked, species[asked_kind]));
  return make_generate(qa_prompt(lines, fmt::format("What color is {}?", asked)),
                       colors[color_of[asked_kind]]);
}

struct Direction {
  const char* phrase;  // as in "A is <phrase> B"
  int dx, dy;
};
const std::array<Direction, 4> kRelations = {{{"to the left of", -1, 0},
                                              {"to the right of", 1, 0},
                                              {"above", 0, 1},
                                              {"below", 0, -1}}};

// qa17: two one-step placements, then a yes/no question about the shapes they chain.
Item positional(Rng& rng) {
  const std::vector<std::string> shapes = {"red square", "blue square", "red sphere", "triangle",
                                           "pink rectangle", "yellow square"};
  bool want_yes = rng.chance(1, 2);
  return draw_until("positional", [&]() -> std::optional<Item> {
    auto s = rng.sample(shapes.size(), 3);  // A, B, C
    int r1 = static_cast<int>(rng.below(4));
    int r2 = static_cast<int>(rng.below(4));
    if (kRelations[r1].dx == -kRelations[r2].dx && kRelations[r1].dy == -kRelations[r2].dy)
      return std::nullopt;  // A would sit on C
    // A = B + r1, B = C + r2: positions relative to C.
    int ax = kRelations[r1].dx + kRelations[r2].dx, ay = kRelations[r1].dy + kRelations[r2].dy;
    std::vector<std::string> lines = {
        fmt::format("The {} is {} the {}.", shapes[s[0]], kRelations[r1].phrase, shapes[s[1]]),
        fmt::format("The {} is {} the {}.", shapes[s[1]], kRelations[r2].phrase, shapes[s[2]])};
    if (rng.chance(1, 2)) std::swap(lines[0], lines[1]);
    bool a_first = rng.chance(1, 2);  // "Is A rel C?" or "Is C rel A?"
    int q = static_cast<int>(rng.below(4));
    int x = a_first ? ax : -ax, y = a_first ? ay : -ay;  // subject relative to object
    bool yes = (kRelations[q].dx != 0 && x * kRelations[q].dx > 0) ||
               (kRelations[q].dy != 0 && y * kRelations[q].dy > 0);
    if (yes != want_yes) return std::nullopt;
    const std::string& subject = shapes[a_first ? s[0] : s[2]];
    const std::string& object = shapes[a_first ? s[2] : s[0]];
    return make_choice(qa_prompt(lines, fmt::format("Is the {} {} the {}?", subject,
                                                    kRelations[q].phrase, object)),
                       {"yes", "no"}, yes ? 0 : 1);
  });
}

// qa19: rooms on a grid joined in a tree by "The X is north of the Y." lines; the question asks
// for the two-step route between two rooms two edges apart ("n,e").
Item path_finding(Rng& rng) {
  const std::vector<std::string> rooms = {"kitchen", "hallway", "bathroom", "bedroom", "garden",
                                          "office"};
  struct Dir {
    const char* word;
    const char* letter;
    int dx, dy;
  };
  const std::array<Dir, 4> dirs = {{{"north", "n", 0, 1}, {"east", "e", 1, 0},
                                    {"south", "s", 0, -1}, {"west", "w", -1, 0}}};
  return draw_until("path_finding", [&]() -> std::optional<Item> {
    int n_rooms = static_cast<int>(rng.range(4, 5));
    auto names = rng.sample(rooms.size(), static_cast<size_t>(n_rooms));
    std::vector<std::pair<int, int>> pos = {{0, 0}};
    std::vector<std::vector<std::pair<int, int>>> adj(static_cast<size_t>(n_rooms));  // (room, dir)
    std::vector<std::string> lines;
    for (int r = 1; r < n_rooms; ++r) {
      int parent = static_cast<int>(rng.below(static_cast<std::uint64_t>(r)));
      int d = static_cast<int>(rng.below(4));
      std::pair<int, int> p = {pos[parent].first + dirs[d].dx, pos[parent].second + dirs[d].dy};
      // The new room must touch no placed room but its parent, so that the map has no
      // unstated shortcut.
      for (int k = 0; k < r; ++k) {
        int dist = std::abs(pos[k].first - p.first) + std::abs(pos[k].second - p.second);
        if (dist == 0 || (dist == 1 && k != parent)) return std::nullopt;
      }
      pos.push_back(p);
      adj[parent].push_back({r, d});
      adj[r].push_back({parent, (d + 2) % 4});
      // "The new room is <d> of the parent", or the same fact from the other side.
      if (rng.chance(1, 2))
        lines.push_back(fmt::format("The {} is {} of the {}.", rooms[names[r]], dirs[d].word, rooms[names[parent]]));
      else
        lines.push_back(fmt::format("The {} is {} of the {}.", rooms[names[parent]],
                                    dirs[(d + 2) % 4].word, rooms[names[r]]));
    }
    rng.shuffle(lines);
    std::vector<std::array<int, 4>> routes;  // (from, to, first dir, second dir)
    for (int a = 0; a < n_rooms; ++a)
      for (auto [b, d1] : adj[a])
        for (auto [c, d2] : adj[b])
          if (c != a) routes.push_back({a, c, d1, d2});
    if (routes.empty()) return std::nullopt;
    auto route = rng.pick(routes);
    return make_generate(
        qa_prompt(lines, fmt::format("How do you go from the {} to the {}?", rooms[names[route[0]]],
                                     rooms[names[route[1]]])),
        fmt::format("{},{}", dirs[route[2]].letter, dirs[route[3]].letter));
  });
}

TaskSpec spec(std::string name, ItemType type, int difficulty, std::string description,
              Item (*fn)(Rng&)) {
  return {std::move(name), type, difficulty, std::move(description),
          [fn](Rng& rng, Split) { return fn(rng); }};
}

}  // namespace

std::vector<TaskSpec> babi_tasks() {
  using T = ItemType;
  return {
      spec("babi_single_fact", T::generate, 1, "bAbI 1: where is a person after some moves", single_fact),
      spec("babi_two_facts", T::generate, 2, "bAbI 2: where is an object (its holder's place)", two_facts),
      spec("babi_three_facts", T::generate, 3, "bAbI 3: where was an object before a given place", three_facts),
      spec("babi_yes_no", T::choice, 1, "bAbI 6: is a person in a place", yes_no),
      spec("babi_counting", T::generate, 2, "bAbI 7: how many objects a person carries", counting),
      spec("babi_lists", T::generate, 2, "bAbI 8: which objects a person carries, in pick-up order", lists),
      spec("babi_deduction", T::generate, 2, "bAbI 15: what an animal is afraid of, by its kind", deduction),
      spec("babi_induction", T::generate, 2, "bAbI 16: an animal's colour from another of its kind", induction),
      spec("babi_positional", T::choice, 3, "bAbI 17: yes/no about shapes placed by two relations", positional),
      spec("babi_path_finding", T::generate, 3, "bAbI 19: the two-step route between two rooms", path_finding),
  };
}

}  // namespace tenx::suites::reasoning
