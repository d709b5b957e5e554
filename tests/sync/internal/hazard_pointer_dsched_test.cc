// Copyright 2026 The contend Authors.
//
// Deterministic-schedule scenarios for hazard pointers (tests/dsched). The
// deleter marks an object destroyed (dsched::mark_destroyed) instead of
// freeing it, so a reader that touches a reclaimed object fails the run as a
// use after destroy, whatever the schedule; the body frees the memory after
// the run. Scenario threads call hazard_thread_detach() before finishing, so
// thread exit itself runs no atomic operation.

#include <memory>
#include <vector>

#include "sync/internal/atomic.h"
#include "sync/internal/hazard_pointer.h"
#include "tests/dsched/dsched.h"
#include "tests/sync/internal/hazard_dsched_domain.h"

namespace contend::internal {
namespace {

using ::contend::dsched::Env;

struct Obj {
  explicit Obj(int v) : value(v) {}
  Atomic<int> value;
};

// Deleted objects, freed by the body once the run is over.
struct Graveyard {
  std::vector<Obj*> dead;
  ~Graveyard() {
    for (Obj* o : dead) delete o;
  }
};

struct Bury {
  Graveyard* g;
  void operator()(Obj* o) const {
    ::contend::dsched::mark_destroyed(o, sizeof(Obj));
    g->dead.push_back(o);
  }
};

// A retire (and the scan that follows it) racing protects: a reader that
// validated its protection reads a live object, and every retired object is
// reclaimed exactly once after the last guard.
DSCHED_SCENARIO("hazard_retire_vs_protect", [](Env& env) {
  same_hazard_domain_every_run();
  auto g = std::make_shared<Graveyard>();
  auto cell = std::make_shared<Atomic<Obj*>>(new Obj(0));
  for (int r = 0; r < 2; ++r) {
    env.spawn([cell] {
      for (int i = 0; i < 2; ++i) {
        HazardPointer hp = make_hazard_pointer();
        Obj* p = hp.protect(*cell);
        DSCHED_CHECK(p->value.load(std::memory_order_relaxed) >= 0);
      }
      hazard_thread_detach();
    });
  }
  env.spawn([cell, g] {
    for (int i = 1; i <= 2; ++i) {
      Obj* old = cell->exchange(new Obj(i), std::memory_order_acq_rel);
      hazard_retire(old, Bury{g.get()});
      hazard_reclaim();
    }
    hazard_thread_detach();
  });
  env.run();
  hazard_reclaim();  // adopts the writer's list: nothing is protected now
  DSCHED_CHECK(g->dead.size() == 2);
  delete cell->load(std::memory_order_relaxed);
});

// A reader protecting while the retiring thread exits (handing its list on)
// and a third thread's scan adopts and reclaims it.
DSCHED_SCENARIO("hazard_exit_handoff_vs_protect", [](Env& env) {
  same_hazard_domain_every_run();
  auto g = std::make_shared<Graveyard>();
  auto cell = std::make_shared<Atomic<Obj*>>(new Obj(0));
  env.spawn([cell] {
    HazardPointer hp = make_hazard_pointer();
    Obj* p = hp.protect(*cell);
    DSCHED_CHECK(p->value.load(std::memory_order_relaxed) >= 0);
    hp = HazardPointer();
    hazard_thread_detach();
  });
  env.spawn([cell, g] {
    Obj* old = cell->exchange(new Obj(1), std::memory_order_acq_rel);
    hazard_retire(old, Bury{g.get()});
    hazard_thread_detach();  // what thread exit does
  });
  env.spawn([] {
    hazard_reclaim();
    hazard_reclaim();
    hazard_thread_detach();
  });
  env.run();
  hazard_reclaim();
  DSCHED_CHECK(g->dead.size() == 1);
  delete cell->load(std::memory_order_relaxed);
});

// Protection moved along a chain (reset_protection to a successor read from
// a protected object), as a map's bucket walk does, against an unlink of the
// successor.
DSCHED_SCENARIO("hazard_handover_vs_unlink", [](Env& env) {
  struct Node {
    Atomic<int> value{1};
    Atomic<Node*> next{nullptr};
  };
  struct Yard {
    std::vector<Node*> dead;
    ~Yard() {
      for (Node* n : dead) delete n;
    }
  };
  same_hazard_domain_every_run();
  auto yard = std::make_shared<Yard>();
  auto head = std::make_shared<Atomic<Node*>>(new Node);
  Node* second = new Node;
  head->load(std::memory_order_relaxed)
      ->next.store(second, std::memory_order_relaxed);
  env.spawn([head] {
    HazardPointer a = make_hazard_pointer();
    HazardPointer b = make_hazard_pointer();
    Node* h = a.protect(*head);
    Node* n = b.protect(h->next);
    if (n != nullptr) {
      DSCHED_CHECK(n->value.load(std::memory_order_relaxed) == 1);
    }
    hazard_thread_detach();
  });
  env.spawn([head, yard] {
    Node* h = head->load(std::memory_order_relaxed);
    Node* n = h->next.exchange(nullptr, std::memory_order_acq_rel);
    hazard_retire(n, [y = yard.get()](Node* dead) {
      ::contend::dsched::mark_destroyed(dead, sizeof(Node));
      y->dead.push_back(dead);
    });
    hazard_reclaim();
    hazard_thread_detach();
  });
  env.run();
  hazard_reclaim();
  DSCHED_CHECK(yard->dead.size() == 1);
  delete head->load(std::memory_order_relaxed);
});

}  // namespace
}  // namespace contend::internal
