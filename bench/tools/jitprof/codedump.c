// A JVMTI agent for bench/tools/jitprof (README, "Where a path's cycles go"): it writes every method
// the JIT compiles, with its code bytes and, for each recorded PC, the chain of inlined methods
// and bytecode indexes there, so that perf samples of JIT code can be attributed to the Java
// methods C2 inlined. Also the JVM's stubs (the interpreter among them).
//
//   gcc -O2 -shared -fPIC -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -o /tmp/libcodedump.so codedump.c
//   java -agentpath:/tmp/libcodedump.so=/tmp/code.txt ...
//
// Output lines: "M addr size Lclass;.method" (a compiled method), "B hex" (its code), "P pc frame..."
// (innermost first: "Lclass;.method@bci"), "S addr size name" (generated code).
#include <jvmti.h>
#include <jvmticmlr.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
static FILE *out; static jrawMonitorID lock;
static void name_of(jvmtiEnv *j, jmethodID m, char *buf, size_t n) {
  char *mn=NULL,*sig=NULL,*cs=NULL; jclass k;
  if ((*j)->GetMethodName(j,m,&mn,&sig,NULL)!=JVMTI_ERROR_NONE) { snprintf(buf,n,"?"); return; }
  (*j)->GetMethodDeclaringClass(j,m,&k); (*j)->GetClassSignature(j,k,&cs,NULL);
  snprintf(buf,n,"%s.%s",cs?cs:"?",mn);
  if(mn)(*j)->Deallocate(j,(unsigned char*)mn); if(sig)(*j)->Deallocate(j,(unsigned char*)sig); if(cs)(*j)->Deallocate(j,(unsigned char*)cs);
}
static void JNICALL cml(jvmtiEnv *j, jmethodID m, jint size, const void *addr, jint mlen, const jvmtiAddrLocationMap *map, const void *info) {
  char nm[1024]; name_of(j,m,nm,sizeof nm);
  (*j)->RawMonitorEnter(j,lock);
  fprintf(out,"M %p %d %s\n",addr,size,nm);
  const unsigned char *p=addr; fprintf(out,"B ");
  for(int i=0;i<size;i++) fprintf(out,"%02x",p[i]); fprintf(out,"\n");
  for (const jvmtiCompiledMethodLoadRecordHeader *h=info; h; h=h->next) {
    if (h->kind==JVMTI_CMLR_INLINE_INFO) {
      const jvmtiCompiledMethodLoadInlineRecord *r=(const void*)h;
      for(int i=0;i<r->numpcs;i++){ PCStackInfo *s=&r->pcinfo[i]; fprintf(out,"P %p",s->pc);
        for(int d=0; d<s->numstackframes; d++){ char n2[1024]; name_of(j,s->methods[d],n2,sizeof n2); fprintf(out," %s@%d",n2,s->bcis[d]); }
        fprintf(out,"\n"); }
    }
  }
  (*j)->RawMonitorExit(j,lock);
}
static void JNICALL dcg(jvmtiEnv *j, const char *name, const void *addr, jint len) {
  (*j)->RawMonitorEnter(j,lock); fprintf(out,"S %p %d %s\n",addr,len,name); (*j)->RawMonitorExit(j,lock);
}
JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *opts, void *res) {
  jvmtiEnv *j; (*vm)->GetEnv(vm,(void**)&j,JVMTI_VERSION_1_2);
  out=fopen(opts?opts:"/tmp/codedump.txt","w");
  jvmtiCapabilities c; memset(&c,0,sizeof c); c.can_generate_compiled_method_load_events=1; (*j)->AddCapabilities(j,&c);
  jvmtiEventCallbacks cb; memset(&cb,0,sizeof cb); cb.CompiledMethodLoad=cml; cb.DynamicCodeGenerated=dcg;
  (*j)->SetEventCallbacks(j,&cb,sizeof cb);
  (*j)->CreateRawMonitor(j,"l",&lock);
  (*j)->SetEventNotificationMode(j,JVMTI_ENABLE,JVMTI_EVENT_COMPILED_METHOD_LOAD,NULL);
  (*j)->SetEventNotificationMode(j,JVMTI_ENABLE,JVMTI_EVENT_DYNAMIC_CODE_GENERATED,NULL);
  return 0;
}
JNIEXPORT void JNICALL Agent_OnUnload(JavaVM *vm){ if(out) fclose(out); }
