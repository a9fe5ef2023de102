// The plain C render loop the benchmark compares VlmRm's P/Invoke path against: same shim functions,
// same model, size, flags, camera and backend, no managed code.
// usage: render_bench MODEL.xml WIDTH HEIGHT FRAMES SHADOWS REFLECTION SKYBOX BACKEND (0 OSMesa, 1 EGL)
#include <mujoco/mujoco.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct vlmrm_renderer vlmrm_renderer;
vlmrm_renderer* vlmrm_render_create(mjModel* m, int width, int height, int shadows, int reflection, int skybox, int backend, char* problem, int problem_size);
int vlmrm_render(vlmrm_renderer* r, const mjModel* m, mjData* d, const double* lookat, double distance, double azimuth, double elevation, unsigned char* rgb);

int main(int argc, char** argv) {
  if (argc != 9) { fprintf(stderr, "usage: %s MODEL W H FRAMES SHADOWS REFLECTION SKYBOX BACKEND\n", argv[0]); return 2; }
  char error[1000];
  mjModel* m = mj_loadXML(argv[1], NULL, error, sizeof error);
  if (!m) { fprintf(stderr, "%s\n", error); return 1; }
  mjData* d = mj_makeData(m);
  int w = atoi(argv[2]), h = atoi(argv[3]), frames = atoi(argv[4]);
  char problem[300] = {0};
  vlmrm_renderer* r = vlmrm_render_create(m, w, h, atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), atoi(argv[8]), problem, sizeof problem);
  if (!r) { fprintf(stderr, "%s\n", problem); return 1; }
  unsigned char* rgb = malloc((size_t)w * h * 3);
  double lookat[3] = {0, 0, 1.0};
  mj_forward(m, d);
  for (int i = 0; i < 5; i++) vlmrm_render(r, m, d, lookat, 3.5, 135, -15, rgb);
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (int i = 0; i < frames; i++) {
    for (int k = 0; k < m->nu; k++) d->ctrl[k] = 0.4 * ((double)rand() / RAND_MAX * 2 - 1);
    mj_step(m, d);
    vlmrm_render(r, m, d, lookat, 3.5, 135, -15, rgb);
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double seconds = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9;
  printf("%.3f\n", frames / seconds);
  return 0;
}
