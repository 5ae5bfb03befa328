// Sort-of-CLEVR (Santoro et al. 2017), small: five objects of distinct colours, each a 3x3
// square, circle (a plus: the 3x3 disc) or triangle, in distinct cells of a 4x4 grid. Questions
// follow the paper's non-relational (shape, colour of the X) and relational (closest, furthest,
// count) templates; scenes where the answer would be ambiguous (ties) are redrawn.
#include "multimodal_clevr.hpp"

#include <set>

#include "generate_util.hpp"
#include "tenx/util/rng.hpp"

namespace tenx::suites {
namespace {

constexpr int kCells = 4, kCell = 3, kObjects = 5;
const std::vector<std::string> kColours = {"red", "green", "blue", "yellow", "magenta", "cyan"};
const std::vector<std::array<int, 3>> kRgb = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {1, 1, 0}, {1, 0, 1}, {0, 1, 1}};
const std::vector<std::string> kShapes = {"square", "circle", "triangle"};
// 3x3 masks, row by row
const char* kMasks[3] = {"XXXXXXXXX", ".X.XXX.X.", "X..XX.XXX"};

struct Object {
  int colour, shape, x, y;  // x, y: cell column and row
};
using Scene = std::vector<Object>;

Scene random_scene(Rng& rng) {
  auto cells = rng.sample(kCells * kCells, kObjects);
  auto colours = rng.sample(kColours.size(), kObjects);
  Scene scene;
  for (int i = 0; i < kObjects; ++i)
    scene.push_back({static_cast<int>(colours[static_cast<size_t>(i)]), static_cast<int>(rng.below(kShapes.size())),
                     static_cast<int>(cells[static_cast<size_t>(i)] % kCells), static_cast<int>(cells[static_cast<size_t>(i)] / kCells)});
  return scene;
}

Image render(const Scene& scene) {
  Image im;
  im.h = im.w = kCells * kCell;
  im.c = 3;
  im.max = 1;
  im.pixels.assign(static_cast<size_t>(im.h * im.w * 3), 0);
  for (const auto& o : scene)
    for (int dy = 0; dy < kCell; ++dy)
      for (int dx = 0; dx < kCell; ++dx) {
        if (kMasks[o.shape][dy * kCell + dx] != 'X') continue;
        size_t p = static_cast<size_t>(((o.y * kCell + dy) * im.w + (o.x * kCell + dx)) * 3);
        for (int ch = 0; ch < 3; ++ch) im.pixels[p + static_cast<size_t>(ch)] = static_cast<std::uint8_t>(kRgb[static_cast<size_t>(o.colour)][static_cast<size_t>(ch)]);
      }
  return im;
}

int dist2(const Object& a, const Object& b) { return (a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y); }

// The index of the unique nearest (or furthest) other object, or -1 on a tie.
int extreme_other(const Scene& scene, int subject, bool nearest) {
  int best = -1, best_d = 0;
  bool tie = false;
  for (int i = 0; i < static_cast<int>(scene.size()); ++i) {
    if (i == subject) continue;
    int d = dist2(scene[static_cast<size_t>(subject)], scene[static_cast<size_t>(i)]);
    if (best < 0 || (nearest ? d < best_d : d > best_d)) best = i, best_d = d, tie = false;
    else if (d == best_d) tie = true;
  }
  return tie ? -1 : best;
}

struct ClevrQuestion {
  std::string context;
  std::vector<std::string> choices;
  int gold = -1;  // -1: not askable of this scene, draw another
};

std::vector<std::string> with_space(const std::vector<std::string>& v) {
  std::vector<std::string> out;
  for (const auto& s : v) out.push_back(" " + s);
  return out;
}

ClevrQuestion ask(const std::string& task, const Scene& scene, int subject) {
  const Object& o = scene[static_cast<size_t>(subject)];
  const std::string& colour = kColours[static_cast<size_t>(o.colour)];
  if (task == "clevr_shape")
    return {fmt::format("<image> Q: What shape is the {} object? A:", colour), with_space(kShapes), o.shape};
  if (task == "clevr_colour") {
    // asked by shape, so the shape must be unique in the scene
    int same = 0;
    for (const auto& other : scene) same += other.shape == o.shape;
    if (same != 1) return {};
    return {fmt::format("<image> Q: What colour is the {}? A:", kShapes[static_cast<size_t>(o.shape)]), with_space(kColours), o.colour};
  }
  if (task == "clevr_closest" || task == "clevr_furthest") {
    bool nearest = task == "clevr_closest";
    int other = extreme_other(scene, subject, nearest);
    if (other < 0) return {};
    return {fmt::format("<image> Q: What shape is the object {} the {} one? A:", nearest ? "closest to" : "furthest from", colour),
            with_space(kShapes), scene[static_cast<size_t>(other)].shape};
  }
  int same = -1;  // clevr_count: others of the same shape
  for (const auto& other : scene) same += other.shape == o.shape;
  return {fmt::format("<image> Q: How many other objects have the same shape as the {} one? A:", colour),
          {" 0", " 1", " 2", " 3", " 4"}, same};
}

Json scene_json(const Scene& scene) {
  Json objects = Json::array();
  for (const auto& o : scene)
    objects.push_back(Json{{"colour", kColours[static_cast<size_t>(o.colour)]}, {"shape", kShapes[static_cast<size_t>(o.shape)]}, {"x", o.x}, {"y", o.y}});
  return objects;
}

struct ClevrTask {
  const char* name;
  const char* description;
  int difficulty;
};
const std::vector<ClevrTask> kClevrTasks = {
    {"clevr_shape", "shape of the object of a given colour", 1},
    {"clevr_colour", "colour of the only object of a given shape", 1},
    {"clevr_closest", "shape of the object closest to the object of a given colour", 2},
    {"clevr_furthest", "shape of the object furthest from the object of a given colour", 2},
    {"clevr_count", "how many other objects share the shape of the object of a given colour", 2},
};
constexpr size_t kClevrTrainPerTask = 500, kClevrTestPerTask = 200;

}  // namespace

void add_clevr(const BuildContext& ctx, GeneratedSuite& suite) {
  std::set<std::string> used_scenes;  // a test scene never reappears in train
  for (const auto& task : kClevrTasks) {
    Rng rng = Rng::derive(ctx.seed, std::string("clevr/") + task.name);
    for (const char* split : {"test", "train"}) {
      size_t want = std::string(split) == "test" ? kClevrTestPerTask : kClevrTrainPerTask;
      for (size_t n = 0; n < want;) {
        Scene scene = random_scene(rng);
        int subject = static_cast<int>(rng.below(kObjects));
        ClevrQuestion q = ask(task.name, scene, subject);
        if (q.gold < 0) continue;
        Json objects = scene_json(scene);
        if (!used_scenes.insert(objects.dump()).second) continue;
        Item item = detail::choice_item(detail::item_id(task.name, split, n++), task.name, q.context, q.choices, q.gold,
                                        Json{{"scene", objects}, {"subject", subject}});
        item.difficulty = task.difficulty;
        item.image = render(scene);
        suite.splits[split].push_back(std::move(item));
      }
    }
    suite.info.tasks.push_back(detail::task_info(task.name, ItemType::choice, task.description));
  }
}

}  // namespace tenx::suites
