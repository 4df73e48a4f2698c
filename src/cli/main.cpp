#include <cstdio>
int main() { std::puts("glidepath"); return 0; }
