import { createContext, useContext } from "react";

export const CatalogueContext = createContext(null);
export const useCatalogue = () => useContext(CatalogueContext);
