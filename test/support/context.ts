export interface SharedWeaviate {
  host: string;
  httpPort: number;
  grpcPort: number;
  external: boolean;
  pid: number | undefined;
}

declare module 'vitest' {
  export interface ProvidedContext {
    weaviate: SharedWeaviate;
    /** JSON-lines file collecting the fault suite's summary rows. */
    faultReport: string;
  }
}
